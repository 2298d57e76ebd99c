import {createMCPClient} from '@ai-sdk/mcp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {googleAuthFetch} from 'mcp-google-auth';
import {startProtectedDemo} from '../support/protected-demo.js';
import type {ProtectedDemo} from '../support/protected-demo.js';

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

describe('Vercel AI SDK (@ai-sdk/mcp) on a protected Cloud Run MCP server', () => {
  it('createMCPClient with the http transport and fetch lists tools and calls whoami', async () => {
    const client = await createMCPClient({
      transport: {
        type: 'http',
        url: stack.mcpUrl,
        fetch: googleAuthFetch({
          authCredential: stack.authCredential,
          cache: stack.cache,
          tokenSourceOptions: stack.tokenSourceOptions,
        }),
      },
    });
    try {
      const tools = await client.tools();
      expect(Object.keys(tools).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
      const result = await tools.whoami?.execute({}, {toolCallId: 'call-1', messages: []});
      expect(JSON.stringify(result)).toContain(stack.email);
    } finally {
      await client.close();
    }
    expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
  });
});
