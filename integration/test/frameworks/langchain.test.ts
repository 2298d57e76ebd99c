import {MultiServerMCPClient, loadMcpTools} from '@langchain/mcp-adapters';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {googleAuthFetch, googleOAuthClientProvider} from 'mcp-google-auth';
import {startProtectedDemo} from '../support/protected-demo.js';
import type {ProtectedDemo} from '../support/protected-demo.js';

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

describe('LangChain MCP adapters (@langchain/mcp-adapters) on a protected Cloud Run MCP server', () => {
  it('MultiServerMCPClient with authProvider lists tools and calls whoami', async () => {
    const client = new MultiServerMCPClient({
      mcpServers: {
        demo: {
          transport: 'http',
          url: stack.mcpUrl,
          automaticSSEFallback: false,
          authProvider: googleOAuthClientProvider({
            authCredential: stack.authCredential,
            targetUrl: stack.mcpUrl,
            cache: stack.cache,
            tokenSourceOptions: stack.tokenSourceOptions,
          }),
        },
      },
    });
    try {
      const tools = await client.getTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'add',
        'echo',
        'slow_count',
        'whoami',
      ]);
      const whoami = tools.find((tool) => tool.name === 'whoami');
      expect(String(await whoami?.invoke({}))).toContain(stack.email);
    } finally {
      await client.close();
    }
    expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
  });

  it('loadMcpTools over an MCP SDK client whose transport uses googleAuthFetch', async () => {
    const client = new Client({name: 'langchain-test', version: '1.0.0'});
    await client.connect(
      new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
        fetch: googleAuthFetch({
          authCredential: stack.authCredential,
          cache: stack.cache,
          tokenSourceOptions: stack.tokenSourceOptions,
        }),
      }),
    );
    try {
      const tools = await loadMcpTools('demo', client);
      const echo = tools.find((tool) => tool.name === 'echo');
      expect(String(await echo?.invoke({text: 'hello'}))).toContain('hello');
    } finally {
      await client.close();
    }
  });
});
