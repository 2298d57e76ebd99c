import {MCPClient} from '@mastra/mcp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {googleOAuthClientProvider} from 'mcp-google-auth';
import {startProtectedDemo} from '../support/protected-demo.js';
import type {ProtectedDemo} from '../support/protected-demo.js';

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

describe('Mastra (@mastra/mcp 0.14, the last line that supports Node 20) on a protected Cloud Run MCP server', () => {
  it('MCPClient with authProvider lists tools and calls whoami', async () => {
    const mcp = new MCPClient({
      id: 'frameworks-mastra',
      servers: {
        demo: {
          url: new URL(stack.mcpUrl),
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
      const tools = await mcp.getTools();
      expect(Object.keys(tools).sort()).toEqual([
        'demo_add',
        'demo_echo',
        'demo_slow_count',
        'demo_whoami',
      ]);
      const result = await tools.demo_whoami?.execute?.({context: {}} as never, {} as never);
      expect(JSON.stringify(result)).toContain(stack.email);
    } finally {
      await mcp.disconnect();
    }
    expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
  });
});
