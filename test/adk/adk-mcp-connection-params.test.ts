import {MCPToolset, setLogger} from '@google/adk';
import type {BaseTool} from '@google/adk';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {adkMcpConnectionParams} from '../../src/adk/adk-mcp-connection-params.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {startProtectedDemo} from './support/protected-demo.js';
import type {ProtectedDemo} from './support/protected-demo.js';

setLogger(null); // ADK's console logger: transport noise on session close

let stack: ProtectedDemo;
beforeAll(async () => {
  stack = await startProtectedDemo();
});
afterAll(() => stack.close());

function bearer(headers: Headers | undefined): string {
  return (headers?.get('x-serverless-authorization') ?? '').replace(/^Bearer /, '');
}

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

  it('sends the token in the chosen header with the fixed headers, and retries a refused token once with a fresh one', async () => {
    const sent: Headers[] = [];
    const spy: FetchLike = (input, init) => {
      sent.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const toolset = new MCPToolset(
      adkMcpConnectionParams({
        url: stack.mcpUrl,
        authCredential: stack.authCredential,
        header: 'x-serverless-authorization',
        headers: {'x-team': 'blue'},
        fetch: spy,
        cache: new TokenCache(),
        tokenSourceOptions: stack.tokenSourceOptions,
      }),
    );
    const mintedBefore = stack.emu.requests.byEndpoint.token;
    try {
      const whoami = (await toolset.getTools()).find((tool) => tool.name === 'whoami') as BaseTool;
      const call = () =>
        whoami.runAsync({args: {}, toolContext: {abortSignal: undefined} as never});
      expect(textOf(await call())).toBe(stack.email);
      for (const headers of sent) {
        expect(headers.get('x-team')).toBe('blue');
        expect(headers.get('authorization')).toBeNull();
        expect(headers.get('x-serverless-authorization')).toMatch(/^Bearer eyJ/);
      }
      const first = bearer(sent.at(-1));

      // The front stops accepting that token: the next request gets 401 and is sent again,
      // once, with a fresh token; ADK never sees the refusal.
      stack.front.revoke(first);
      stack.advanceClock(2_000);
      const revokedBefore = stack.front.stats.revoked;
      expect(textOf(await call())).toBe(stack.email);
      expect(stack.front.stats.revoked).toBe(revokedBefore + 1);
      expect(bearer(sent.at(-1))).not.toBe(first);
      expect(stack.emu.requests.byEndpoint.token - mintedBefore).toBe(2);
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
