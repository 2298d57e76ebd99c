import {MCPToolset, setLogger} from '@google/adk';
import type {BaseTool} from '@google/adk';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {adkMcpConnectionParams} from '../../src/adk/adk-mcp-connection-params.js';
import {startProtectedDemo} from './support/protected-demo.js';
import type {ProtectedDemo} from './support/protected-demo.js';

setLogger(null); // ADK's console logger: transport noise on session close

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

function textOf(result: unknown): string {
  const content = (result as {content?: Array<{type: string; text?: string}>}).content ?? [];
  return content.map((part) => part.text ?? '').join('');
}

describe('adkMcpConnectionParams with @google/adk MCPToolset', () => {
  it('lists and calls tools on the demo server behind the Cloud Run front', async () => {
    const params = adkMcpConnectionParams({
      url: stack.mcpUrl,
      authCredential: stack.authCredential,
      cache: stack.cache,
      tokenSourceOptions: stack.tokenSourceOptions,
    });
    const toolset = new MCPToolset(params);
    try {
      const tools = await toolset.getTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'add',
        'echo',
        'slow_count',
        'whoami',
      ]);
      const whoami = tools.find((tool) => tool.name === 'whoami') as BaseTool;
      // ADK opens a new MCP session per call; the token is minted once and reused.
      const result = await whoami.runAsync({
        args: {},
        toolContext: {abortSignal: undefined} as never,
      });
      expect(textOf(result)).toContain(stack.email);
      expect(stack.front.stats.invalidToken + stack.front.stats.missingToken).toBe(0);
      expect(stack.emu.requests.byEndpoint.token).toBe(1);
    } finally {
      await toolset.close();
    }
  });

  it('returns ADK StreamableHTTPConnectionParams with the fetch in transportOptions', () => {
    const params = adkMcpConnectionParams({
      url: stack.mcpUrl,
      authCredential: stack.authCredential,
      headers: {'x-team': 'blue'},
    });
    expect(params.type).toBe('StreamableHTTPConnectionParams');
    expect(params.url).toBe(stack.mcpUrl);
    expect(typeof params.transportOptions?.fetch).toBe('function');
    expect(params.transportOptions?.requestInit?.headers).toEqual({'x-team': 'blue'});
  });

  it('refuses a URL that is not http(s), naming the option', () => {
    expect(() =>
      adkMcpConnectionParams({url: 'ftp://example.com/mcp', authCredential: stack.authCredential}),
    ).toThrow(/adkMcpConnectionParams url must be an http\(s\) URL/);
  });
});
