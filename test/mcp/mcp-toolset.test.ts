import {fileURLToPath} from 'node:url';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {AuthCredential} from '../../src/credentials/types.js';
import {McpConnectionError, McpToolError} from '../../src/mcp/mcp-errors.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {McpToolsetOptions} from '../../src/mcp/mcp-toolset.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource} from '../http/support/loopback.js';
import {startMcpTestServer} from './support/mcp-test-server.js';
import type {McpTestServer} from './support/mcp-test-server.js';

const idCredential: AuthCredential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
};

let server: McpTestServer;
const toolsets: McpToolset[] = [];

beforeAll(async () => {
  server = await startMcpTestServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(toolsets.splice(0).map((t) => t.close().catch(() => undefined)));
  server.gate = () => undefined;
  server.headers.length = 0;
  server.sessions = 0;
  server.toolCalls = 0;
  server.deletes = 0;
});

function toolset(
  options: Partial<McpToolsetOptions> = {},
  source = new FakeTokenSource(),
  cache = new TokenCache(),
) {
  const t = new McpToolset({
    connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
    authScheme: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
    authCredential: idCredential,
    tokenSource: source,
    cache,
    ...options,
  });
  toolsets.push(t);
  return {toolset: t, source};
}

function text(result: {content: unknown}): string {
  const [first] = result.content as Array<{type: string; text?: string}>;
  return first?.text ?? '';
}

describe('McpToolset over Streamable HTTP', () => {
  it('lists the tools with their schemas and calls them with a Google ID token', async () => {
    const {toolset: t, source} = toolset();
    const tools = await t.getTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'add',
      'echo',
      'fail',
      'header',
      'wrap',
    ]);
    const add = tools.find((tool) => tool.name === 'add');
    expect(add?.description).toBe('Adds.');
    expect(add?.inputSchema.properties).toHaveProperty('a');
    expect(text(await add!.runAsync({a: 2, b: 3}))).toBe('5');
    expect(source.requests).toEqual([{kind: 'id', audience: server.origin}]);
    expect(server.headers.every((h) => h.authorization === 'Bearer tok-1')).toBe(true);
  });

  it("accepts ADK's runAsync({args, toolContext}) and plain arguments, even an argument called args", async () => {
    const {toolset: t} = toolset();
    const tools = await t.getTools();
    const echo = tools.find((tool) => tool.name === 'echo')!;
    const wrap = tools.find((tool) => tool.name === 'wrap')!;
    expect(text(await echo.runAsync({args: {text: 'adk'}, toolContext: {}}))).toBe('adk');
    expect(text(await echo.runAsync({args: {text: 'adk-no-context'}}))).toBe('adk-no-context');
    expect(text(await wrap.runAsync({args: 'raw'}))).toBe('args=raw');
  });

  it('returns a tool-reported error as a result, not an exception', async () => {
    const {toolset: t} = toolset();
    const fail = (await t.getTools()).find((tool) => tool.name === 'fail')!;
    const result = await fail.runAsync();
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('it failed');
  });

  it('prefixes names, filters by name or predicate, and calls with the server name', async () => {
    const {toolset: byName} = toolset({toolNamePrefix: 'demo', toolFilter: ['demo_add', 'echo']});
    const tools = await byName.getTools();
    expect(tools.map((tool) => [tool.name, tool.originalName])).toEqual([
      ['demo_echo', 'echo'],
      ['demo_add', 'add'],
    ]);
    expect(text(await tools[1]!.runAsync({a: 1, b: 1}))).toBe('2');
    const seen: unknown[] = [];
    const {toolset: byPredicate} = toolset({
      toolFilter: (tool, context) => {
        seen.push(context);
        return tool.name.startsWith('e');
      },
    });
    expect((await byPredicate.getTools({user: 'u'})).map((tool) => tool.name)).toEqual(['echo']);
    expect(seen[0]).toEqual({user: 'u'});
  });

  it('serves 50 concurrent calls with one session and one token', async () => {
    const {toolset: t, source} = toolset();
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    const results = await Promise.all(
      Array.from({length: 50}, (_, i) => echo.runAsync({text: `m${i}`})),
    );
    expect(results.map(text)).toEqual(Array.from({length: 50}, (_, i) => `m${i}`));
    expect(server.sessions).toBe(1);
    expect(t.sessionsOpened).toBe(1);
    expect(source.calls).toBe(1);
  });

  it('connects once for concurrent first calls', async () => {
    const {toolset: t} = toolset();
    await Promise.all(Array.from({length: 10}, () => t.getTools()));
    expect(server.sessions).toBe(1);
  });

  it('keeps one session while the token rotates', async () => {
    let clock = Date.now();
    const source = new FakeTokenSource();
    source.now = () => clock;
    source.lifetimeMs = 60_000;
    const cache = new TokenCache({refreshMarginSeconds: 0, now: () => clock});
    const {toolset: t} = toolset({}, source, cache);
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    for (let round = 0; round < 5; round++) {
      clock += 61_000;
      expect(text(await echo.runAsync({text: `r${round}`}))).toBe(`r${round}`);
    }
    expect(source.calls).toBe(6);
    expect(new Set(server.headers.map((h) => h.authorization)).size).toBe(6);
    expect(server.sessions).toBe(1);
  });

  it('re-opens a session the server forgot, once for 20 concurrent calls, transparently', async () => {
    const {toolset: t} = toolset();
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    server.forgetSessions();
    const results = await Promise.all(
      Array.from({length: 20}, (_, i) => echo.runAsync({text: `after restart ${i}`})),
    );
    expect(results.map(text)).toEqual(Array.from({length: 20}, (_, i) => `after restart ${i}`));
    expect(server.sessions).toBe(2);
    expect(t.sessionsOpened).toBe(2);
  });

  it('re-opens a forgotten session only once per call, then fails naming the tool, URL and 404', async () => {
    // A server that loses every session the moment a tool is called (as behind a load
    // balancer without session affinity): the call is re-sent once on a new session, no more.
    const {toolset: t} = toolset({
      fetch: (input, init) => {
        if (typeof init?.body === 'string' && init.body.includes('"tools/call"')) {
          server.forgetSessions();
        }
        return fetch(input, init);
      },
    });
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    const error = await echo.runAsync({text: 'x'}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpToolError);
    const toolError = error as McpToolError;
    expect(toolError.status).toBe(404);
    expect(toolError.toolName).toBe('echo');
    expect(toolError.url).toBe(server.url);
    expect(toolError.message).toContain(
      `MCP tool "echo" at ${server.url} failed: HTTP 404: the server lost the MCP session, and lost it again after it was re-opened once`,
    );
    expect(t.sessionsOpened).toBe(2);
    expect(server.sessions).toBe(2);
    expect(server.toolCalls).toBe(0);
  });

  it('retries a 401 once with a fresh token inside the same session', async () => {
    const {toolset: t, source} = toolset();
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    server.gate = (headers) => (headers.authorization === 'Bearer tok-1' ? 401 : undefined);
    expect(text(await echo.runAsync({text: 'x'}))).toBe('x');
    expect(source.calls).toBe(2);
    expect(server.sessions).toBe(1);
  });

  it('fails a 403 with a typed error naming the tool, URL and status, without retrying', async () => {
    const {toolset: t} = toolset();
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    server.gate = () => 403;
    server.headers.length = 0;
    const error = await echo.runAsync({text: 'x'}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpToolError);
    const toolError = error as McpToolError;
    expect(toolError.code).toBe('http_error');
    expect(toolError.status).toBe(403);
    expect(toolError.toolName).toBe('echo');
    expect(toolError.url).toBe(server.url);
    expect(toolError.message).toContain(`MCP tool "echo" at ${server.url} failed: HTTP 403`);
    expect(toolError.message).toContain('roles/run.invoker');
    expect(toolError.message).not.toContain('tok-1');
    expect(server.headers).toHaveLength(1);
  });

  it('fails to connect with McpConnectionError explaining a 401', async () => {
    server.gate = () => 401;
    const {toolset: t, source} = toolset({
      authCredential: {authType: 'serviceAccount', serviceAccount: {useDefaultCredential: true}},
    });
    const error = await t.getTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectionError);
    expect((error as McpConnectionError).status).toBe(401);
    expect((error as McpConnectionError).message).toContain('An OAuth2 access token was sent');
    expect(source.calls).toBe(2);
    server.gate = () => undefined;
    expect((await t.getTools()).length).toBeGreaterThan(0);
  });

  it('names a missing endpoint', async () => {
    const t = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: `${server.origin}/nope`},
    });
    toolsets.push(t);
    await expect(t.getTools()).rejects.toThrow(/HTTP 404: nothing answers MCP at this URL/);
  });

  it('ends the session with DELETE on close, unless terminateOnClose is false, and reconnects after', async () => {
    const {toolset: t} = toolset();
    await t.getTools();
    await t.close();
    expect(server.deletes).toBe(1);
    await t.getTools();
    expect(server.sessions).toBe(2);
    const {toolset: keep} = toolset({
      connectionParams: {
        type: 'StreamableHTTPConnectionParams',
        url: server.url,
        terminateOnClose: false,
      },
    });
    await keep.getTools();
    await keep.close();
    expect(server.deletes).toBe(1);
  });
});

describe('McpToolset headers', () => {
  it('merges headerProvider and fixed headers under the auth header', async () => {
    const contexts: unknown[] = [];
    const {toolset: t} = toolset({
      connectionParams: {
        type: 'StreamableHTTPConnectionParams',
        url: server.url,
        headers: {'x-fixed': 'f', 'x-both': 'fixed'},
      },
      headerProvider: async (context) => {
        contexts.push(context);
        return {'x-tenant': 't1', 'x-both': 'provider', authorization: 'Bearer from-provider'};
      },
    });
    const tools = await t.getTools({user: 'alice'});
    const header = tools.find((tool) => tool.name === 'header')!;
    expect(
      text(await header.runAsync({args: {name: 'x-tenant'}, toolContext: {user: 'bob'}})),
    ).toBe('t1');
    const last = server.headers.at(-1)!;
    expect(last.authorization).toBe('Bearer tok-1');
    expect(last['x-fixed']).toBe('f');
    expect(last['x-both']).toBe('provider');
    expect(contexts).toContainEqual({user: 'alice'});
    expect(contexts.at(-1)).toEqual({user: 'bob'});
  });

  it('lets the provider Authorization through when the token goes in X-Serverless-Authorization', async () => {
    const {toolset: t} = toolset({
      authHeader: 'x-serverless-authorization',
      headerProvider: () => ({authorization: 'Bearer app-user'}),
    });
    await t.getTools();
    const last = server.headers.at(-1)!;
    expect(last.authorization).toBe('Bearer app-user');
    expect(last['x-serverless-authorization']).toBe('Bearer tok-1');
  });

  it('sends an API key in the header the scheme names', async () => {
    const t = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
      authScheme: {type: 'apiKey', in: 'header', name: 'X-Goog-Api-Key'},
      authCredential: {authType: 'apiKey', apiKey: 'key-123'},
    });
    toolsets.push(t);
    await t.getTools();
    expect(server.headers.every((h) => h['x-goog-api-key'] === 'key-123')).toBe(true);
  });

  it('sends HTTP basic and OAuth2 credentials', async () => {
    const basic = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
      authScheme: {type: 'http', scheme: 'basic'},
      authCredential: {
        authType: 'http',
        http: {scheme: 'basic', credentials: {username: 'u', password: 'p'}},
      },
    });
    toolsets.push(basic);
    await basic.getTools();
    expect(server.headers.at(-1)?.authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    const oauth = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: server.url},
      authCredential: {authType: 'oauth2', oauth2: {accessToken: 'ya29.user'}},
    });
    toolsets.push(oauth);
    await oauth.getTools();
    expect(server.headers.at(-1)?.authorization).toBe('Bearer ya29.user');
  });
});

describe('McpToolset over SSE and stdio', () => {
  it('speaks the SSE transport with the token on the stream and on every message', async () => {
    const {toolset: t} = toolset({
      connectionParams: {type: 'SseConnectionParams', url: server.sseUrl},
    });
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    expect(text(await echo.runAsync({text: 'over sse'}))).toBe('over sse');
    expect(server.headers.length).toBeGreaterThanOrEqual(3);
    expect(server.headers.every((h) => h.authorization === 'Bearer tok-1')).toBe(true);
  });

  it('re-opens an SSE session the server forgot', async () => {
    const {toolset: t} = toolset({
      connectionParams: {type: 'SseConnectionParams', url: server.sseUrl},
    });
    const echo = (await t.getTools()).find((tool) => tool.name === 'echo')!;
    server.forgetSessions();
    expect(text(await echo.runAsync({text: 'again'}))).toBe('again');
    expect(t.sessionsOpened).toBe(2);
  });

  it('runs a stdio server', async () => {
    const script = fileURLToPath(new URL('./support/stdio-server.mjs', import.meta.url));
    const t = new McpToolset({
      connectionParams: {
        type: 'StdioConnectionParams',
        serverParams: {command: process.execPath, args: [script]},
      },
      toolFilter: ['echo'],
    });
    toolsets.push(t);
    const [echo] = await t.getTools();
    expect(text(await echo!.runAsync({text: 'hi'}))).toBe('stdio:hi');
  });
});

describe('McpToolset options', () => {
  it('refuses misused options with TypeErrors naming them', () => {
    const url = server.url;
    expect(() => new McpToolset({connectionParams: {type: 'Nope', url} as never})).toThrow(
      /connectionParams\.type/,
    );
    expect(
      () =>
        new McpToolset({
          connectionParams: {type: 'StreamableHTTPConnectionParams', url: 'not a url'},
        }),
    ).toThrow(/connectionParams\.url/);
    expect(
      () =>
        new McpToolset({
          connectionParams: {type: 'StreamableHTTPConnectionParams', url, timeout: 0},
        }),
    ).toThrow(/timeout/);
    expect(
      () =>
        new McpToolset({
          connectionParams: {type: 'StreamableHTTPConnectionParams', url},
          toolNamePrefix: '',
        }),
    ).toThrow(/toolNamePrefix/);
    expect(
      () =>
        new McpToolset({
          connectionParams: {type: 'StreamableHTTPConnectionParams', url},
          authHeader: 'authorization',
        }),
    ).toThrow(/authHeader needs authCredential/);
    expect(
      () =>
        new McpToolset({
          connectionParams: {type: 'StdioConnectionParams', serverParams: {command: 'x'}},
          authCredential: idCredential,
        }),
    ).toThrow(/HTTP connections only/);
  });
});
