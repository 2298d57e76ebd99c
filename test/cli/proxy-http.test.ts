/**
 * The HTTP proxy in process, between MCP SDK clients and the demo MCP server behind the
 * Cloud Run front, with real tokens from the emulator through googleAuthFetch over
 * nodeHttpFetch (what the command builds).
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {McpError} from '@modelcontextprotocol/sdk/types.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy, HttpProxyOptions} from '../../src/cli/proxy/http-proxy.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {closedPort} from './cli-harness.js';
import {recordingLogger, startProxyStack, textOf} from './support/proxy-stack.js';
import type {ProxyStack} from './support/proxy-stack.js';

const SA = 'proxy-http@emulator-project.iam.gserviceaccount.com';
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

/** What the proxy sent to the remote: method, session id, credential, body. */
interface Sent {
  method: string;
  sessionId: string | undefined;
  authorization: string | undefined;
  body: string | undefined;
}

/** Wraps a fetch to record what goes to the remote. */
function recording(sent: Sent[]): (fetch: FetchLike) => FetchLike {
  return (base) => (input, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = init?.body;
    sent.push({
      method: init?.method ?? 'GET',
      sessionId: headers['mcp-session-id'],
      authorization: headers.authorization,
      body:
        body === undefined || body === null
          ? undefined
          : Buffer.from(body as Uint8Array).toString('utf8'),
    });
    return base(input, init);
  };
}

describe('startHttpProxy against the Cloud Run front', () => {
  let emu: GoogleEmulator;
  let keyJson: Record<string, string>;
  let stack: ProxyStack;
  const cleanups: (() => Promise<unknown>)[] = [];
  // One clock for the emulator and the front, so a test can move time on by whole seconds.
  let clockOffsetMs = 0;
  const now = (): number => Date.now() + clockOffsetMs;

  beforeAll(async () => {
    emu = await startGoogleEmulator({now});
    keyJson = (await emu.createServiceAccountKey(SA)).json;
  });

  afterAll(async () => {
    await emu.close();
  });

  beforeEach(async () => {
    clockOffsetMs = 0;
    stack = await startProxyStack(emu, keyJson, {gateway: {now}});
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await stack.close();
  });

  async function proxy(options: Partial<HttpProxyOptions> = {}): Promise<HttpProxy> {
    const started = await startHttpProxy({
      remoteUrl: stack.mcpUrl,
      fetch: stack.authFetch(),
      ...options,
    });
    cleanups.push(() => started.close());
    return started;
  }

  async function client(
    url: string,
  ): Promise<{client: Client; transport: StreamableHTTPClientTransport}> {
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const connected = new Client({name: 'proxy-http-test', version: '1.0.0'});
    cleanups.push(() => connected.close());
    await connected.connect(transport);
    return {client: connected, transport};
  }

  it('forwards initialize, tools/list and tools/call with a Google ID token, under its own session id', async () => {
    const sent: Sent[] = [];
    const local = await proxy({fetch: stack.authFetch(recording(sent))});
    const {client: c, transport} = await client(local.url);
    expect(c.getServerVersion()?.name).toBe('mcp-google-auth-demo');
    const {tools} = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
    expect(textOf(await c.callTool({name: 'add', arguments: {a: 2, b: 3}}))).toBe('5');
    expect(textOf(await c.callTool({name: 'whoami', arguments: {}}))).toBe(SA);
    expect(stack.demo.stats.sessions).toBe(1);
    expect(local.sessions).toBe(1);
    // Every request carried an ID token; the remote's session id never reached the client.
    expect(sent.every((s) => /^Bearer eyJ/.test(s.authorization ?? ''))).toBe(true);
    const remoteIds = new Set(sent.map((s) => s.sessionId).filter(Boolean));
    expect(remoteIds.size).toBe(1);
    expect(transport.sessionId).toBeDefined();
    expect(remoteIds.has(transport.sessionId)).toBe(false);
  });

  it('passes progress notifications through to the client', async () => {
    const {client: c} = await client((await proxy()).url);
    const seen: Progress[] = [];
    const result = await c.callTool({name: 'slow_count', arguments: {n: 3}}, undefined, {
      onprogress: (progress) => seen.push(progress),
    });
    expect(textOf(result)).toBe('counted to 3');
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
  });

  it('keeps one remote session when the token is revoked mid-session', async () => {
    const sent: Sent[] = [];
    const {client: c} = await client((await proxy({fetch: stack.authFetch(recording(sent))})).url);
    expect(textOf(await c.callTool({name: 'echo', arguments: {text: 'one'}}))).toBe('one');
    const first = (sent.at(-1)?.authorization ?? '').replace(/^Bearer /, '');
    stack.gateway.revoke(first);
    clockOffsetMs += 2_000;
    expect(textOf(await c.callTool({name: 'echo', arguments: {text: 'two'}}))).toBe('two');
    expect(sent.at(-1)?.authorization).not.toBe(`Bearer ${first}`);
    expect(stack.gateway.stats.revoked).toBeGreaterThan(0);
    expect(stack.demo.stats.sessions).toBe(1);
  });

  it('re-establishes a lost remote session by replaying the client’s own initialize and initialized, then retries once', async () => {
    const sent: Sent[] = [];
    const logger = recordingLogger();
    const local = await proxy({fetch: stack.authFetch(recording(sent)), logger});
    const {client: c} = await client(local.url);
    expect(textOf(await c.callTool({name: 'echo', arguments: {text: 'before'}}))).toBe('before');
    const clientInitialize = sent.find((s) => s.body?.includes('"initialize"'))?.body;
    const clientInitialized = sent.find((s) => s.body?.includes('notifications/initialized'))?.body;
    const before = sent.length;

    expect(stack.demo.forgetSessions()).toBe(1);
    expect(textOf(await c.callTool({name: 'echo', arguments: {text: 'after'}}))).toBe('after');
    expect(stack.demo.stats.sessions).toBe(2);
    expect(local.stats.reestablishedSessions).toBe(1);
    // The replay is the client's own bytes; the call went once on the lost id, once on the new.
    const since = sent.slice(before).filter((s) => s.method === 'POST');
    const calls = since.filter((s) => s.body?.includes('"after"'));
    expect(calls).toHaveLength(2);
    expect(calls[0]?.sessionId).not.toBe(calls[1]?.sessionId);
    expect(since.some((s) => s.body === clientInitialize && s.sessionId === undefined)).toBe(true);
    expect(
      since.some((s) => s.body === clientInitialized && s.sessionId === calls[1]?.sessionId),
    ).toBe(true);
    expect(logger.lines.join('\n')).toContain('was lost');
    expect(logger.lines.join('\n')).toContain('re-established');
    const {tools} = await c.listTools();
    expect(tools).toHaveLength(4);
  });

  it('re-establishes remote sessions only for clients that send requests, never for abandoned ones', async () => {
    const sent: Sent[] = [];
    const local = await proxy({fetch: stack.authFetch(recording(sent))});
    // Four clients initialize and go away without a word (no DELETE, no stream).
    for (let i = 0; i < 4; i++) {
      const init = await fetch(local.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: {name: `gone-${i}`, version: '1'},
          },
        }),
      });
      await init.text();
      expect(init.headers.get('mcp-session-id')).toBeTruthy();
    }
    const {client: active} = await client(local.url);
    expect(local.sessions).toBe(5);
    expect(stack.demo.stats.sessions).toBe(5);

    stack.demo.forgetSessions();
    const before = sent.length;
    expect(textOf(await active.callTool({name: 'echo', arguments: {text: 'still here'}}))).toBe(
      'still here',
    );
    // Long enough for anything that reopens sessions on its own (the old proxy's standing
    // streams reconnected after 1 s and re-created every lost session): nothing may.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.demo.stats.sessions).toBe(6);
    const initializes = sent.slice(before).filter((s) => s.body?.includes('"initialize"'));
    expect(initializes).toHaveLength(1);
    expect(initializes[0]?.body).toContain('proxy-http-test');
  });

  it('answers a request in flight when its response stream ends without an answer', async () => {
    const logger = recordingLogger();
    const {client: c} = await client((await proxy({logger})).url);
    // The server "restarts" as soon as the call has started (its first progress notification).
    const error = await c
      .callTool({name: 'slow_count', arguments: {n: 50, delayMs: 20}}, undefined, {
        onprogress: (progress) => {
          if (progress.progress === 1) stack.demo.forgetSessions();
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      'closed the response stream without answering tools/call',
    );
    expect(logger.lines.join('\n')).toContain('closed the response stream');
    // The next call finds the session gone and gets a new one.
    expect(textOf(await c.callTool({name: 'echo', arguments: {text: 'next'}}))).toBe('next');
    expect(stack.demo.stats.sessions).toBe(2);
  });

  it('answers a 403 with a JSON-RPC error that explains it, never with a 401/403 or a token', async () => {
    await stack.close();
    stack = await startProxyStack(emu, keyJson, {
      gateway: {now, invokers: ['someone-else@emulator-project.iam.gserviceaccount.com']},
    });
    const logger = recordingLogger();
    const local = await proxy({logger});
    const error = await client(local.url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    const message = (error as McpError).message;
    expect(message).toContain('HTTP 403');
    expect(message).toContain('roles/run.invoker');
    expect(message).toContain('mcp-google-auth doctor');
    expect(message).not.toMatch(JWT);
    expect(logger.lines.join('\n')).toContain('HTTP 403');
    expect(logger.lines.join('\n')).not.toMatch(JWT);
    // Nothing was kept of the refused initialize.
    expect(local.sessions).toBe(0);
    expect(local.stats.startingSessions).toBe(0);
    // A raw look: a local 401/403 (or a WWW-Authenticate) would start an OAuth flow in clients.
    const raw = await fetch(local.url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: {name: 'raw', version: '1'},
        },
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('www-authenticate')).toBeNull();
    expect(await raw.json()).toMatchObject({
      id: 7,
      error: {code: -32000, data: {reason: 'auth_refused', httpStatus: 403}},
    });
  });

  it('answers with a clear error when the remote cannot be reached', async () => {
    const port = await closedPort();
    const local = await proxy({
      remoteUrl: `http://127.0.0.1:${port}/mcp`,
      fetch: (i, init) => fetch(i, init),
    });
    const error = await client(local.url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      `Could not reach the remote MCP server at http://127.0.0.1:${port} (ECONNREFUSED).`,
    );
  });

  it('ends the remote session when the client sends DELETE, and all of them on close', async () => {
    const local = await proxy();
    const {client: first, transport} = await client(local.url);
    await client(local.url);
    expect(stack.demo.stats.activeSessions).toBe(2);
    await transport.terminateSession();
    expect(stack.demo.stats.activeSessions).toBe(1);
    expect(local.sessions).toBe(1);
    await first.close();
    await local.close();
    expect(stack.demo.stats.activeSessions).toBe(0);
  });
});
