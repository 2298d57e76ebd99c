/**
 * The forwarding core of `mcp-google-auth proxy`, in process: a ForwardingSession between an
 * MCP SDK client (over an in-memory transport) and the demo MCP server behind the Cloud Run
 * front, with real tokens from the emulator through googleAuthFetch.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {InMemoryTransport} from '@modelcontextprotocol/sdk/inMemory.js';
import {McpError} from '@modelcontextprotocol/sdk/types.js';
import type {Progress} from '@modelcontextprotocol/sdk/types.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {ForwardingSession} from '../../src/cli/proxy/forwarding-session.js';
import type {ProxyLogger} from '../../src/cli/proxy/proxy-logger.js';
import {parseAuthCredential} from '../../src/credentials/parse.js';
import {AuthCredentialTypes} from '../../src/credentials/types.js';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {closedPort} from './cli-harness.js';

const SA = 'proxy-test@emulator-project.iam.gserviceaccount.com';

function textOf(result: unknown): string {
  const content = (result as {content: {type: string; text?: string}[]}).content;
  return content.map((item) => item.text ?? '').join('');
}

function recordingLogger(): ProxyLogger & {lines: string[]} {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    debug: () => undefined,
  };
}

describe('ForwardingSession', () => {
  let emu: GoogleEmulator;
  let demo: DemoMcpServer;
  let gateway: CloudRunGateway;
  let keyJson: Record<string, string>;
  let cache: TokenCache;
  const cleanups: (() => Promise<unknown>)[] = [];

  // One clock for the emulator and the front, so a test can move time on by whole seconds
  // (a token minted in the same second as a revoked one would be the same token).
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
    demo = await startDemoMcpServer();
    gateway = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl, now});
    cache = new TokenCache();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await gateway.close();
    await demo.close();
  });

  function authFetch(base?: FetchLike): FetchLike {
    return googleAuthFetch({
      authCredential: parseAuthCredential({
        authType: AuthCredentialTypes.SERVICE_ACCOUNT,
        serviceAccount: {
          serviceAccountCredential: keyJson,
          useIdToken: true,
          audience: gateway.url,
        },
      }),
      targetUrl: `${gateway.url}/mcp`,
      cache,
      tokenSourceOptions: {emulatorHost: emu.host},
      ...(base ? {fetch: base} : {}),
    });
  }

  async function connect(
    options: {fetch?: FetchLike; url?: string; logger?: ProxyLogger} = {},
  ): Promise<{client: Client; session: ForwardingSession}> {
    const [clientSide, proxySide] = InMemoryTransport.createLinkedPair();
    const session = new ForwardingSession({
      local: proxySide,
      remoteUrl: options.url ?? `${gateway.url}/mcp`,
      fetch: options.fetch ?? authFetch(),
      ...(options.logger ? {logger: options.logger} : {}),
    });
    await session.start();
    const client = new Client({name: 'proxy-test', version: '1.0.0'});
    cleanups.push(
      () => session.close(),
      () => client.close(),
    );
    await client.connect(clientSide);
    return {client, session};
  }

  it('forwards initialize, tools/list and tools/call with a Google ID token', async () => {
    const {client} = await connect();
    expect(client.getServerVersion()?.name).toBe('mcp-google-auth-demo');
    const {tools} = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'slow_count', 'whoami']);
    expect(textOf(await client.callTool({name: 'add', arguments: {a: 2, b: 3}}))).toBe('5');
    expect(textOf(await client.callTool({name: 'whoami', arguments: {}}))).toBe(SA);
    expect(gateway.stats.forwarded).toBeGreaterThan(0);
    expect(demo.stats.sessions).toBe(1);
  });

  it('passes progress notifications through to the client', async () => {
    const {client} = await connect();
    const seen: Progress[] = [];
    const result = await client.callTool({name: 'slow_count', arguments: {n: 3}}, undefined, {
      onprogress: (progress) => seen.push(progress),
    });
    expect(textOf(result)).toBe('counted to 3');
    expect(seen.map((p) => p.progress)).toEqual([1, 2, 3]);
  });

  it('keeps one remote session when the token is revoked mid-session', async () => {
    const sent: string[] = [];
    const spy: FetchLike = (input, init) => {
      const value = new Headers(init?.headers).get('authorization');
      if (value) sent.push(value.replace(/^Bearer /, ''));
      return fetch(input, init);
    };
    const {client} = await connect({fetch: authFetch(spy)});
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'one'}}))).toBe('one');
    const first = sent.at(-1) as string;
    gateway.revoke(first);
    clockOffsetMs += 2_000;
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'two'}}))).toBe('two');
    expect(sent.at(-1)).not.toBe(first);
    expect(gateway.stats.revoked).toBeGreaterThan(0);
    expect(demo.stats.sessions).toBe(1);
  });

  it('re-initializes transparently when the remote forgets the session', async () => {
    const logger = recordingLogger();
    const {client, session} = await connect({logger});
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'before'}}))).toBe(
      'before',
    );
    expect(demo.forgetSessions()).toBe(1);
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'after'}}))).toBe('after');
    expect(demo.stats.sessions).toBe(2);
    expect(demo.stats.unknownSessionRequests).toBeGreaterThan(0);
    expect(session.remoteSessions).toBe(2);
    expect(logger.lines.some((l) => l.includes('was lost'))).toBe(true);
    const {tools} = await client.listTools();
    expect(tools.length).toBe(4);
  });

  it('answers a request in flight when its response stream ends without an answer', async () => {
    const logger = recordingLogger();
    const {client} = await connect({logger});
    // The server "restarts" as soon as the call has started (its first progress notification).
    const call = client.callTool({name: 'slow_count', arguments: {n: 50, delayMs: 20}}, undefined, {
      onprogress: (progress) => {
        if (progress.progress === 1) demo.forgetSessions();
      },
    });
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      'closed the response stream without answering tools/call',
    );
    expect(logger.lines.join('\n')).toContain('closed the response stream');
    // The next call finds the session gone and gets a new one.
    expect(textOf(await client.callTool({name: 'echo', arguments: {text: 'next'}}))).toBe('next');
    expect(demo.stats.sessions).toBe(2);
  });

  it('answers 403 with a JSON-RPC error that explains it, and no token', async () => {
    await gateway.close();
    gateway = await startCloudRunGateway({
      upstream: demo.origin,
      jwksUrl: emu.jwksUrl,
      now,
      invokers: ['someone-else@emulator-project.iam.gserviceaccount.com'],
    });
    const logger = recordingLogger();
    const error = await connect({logger}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    const message = (error as McpError).message;
    expect(message).toContain('HTTP 403');
    expect(message).toContain('roles/run.invoker');
    expect(message).toContain('mcp-google-auth doctor');
    expect(message).not.toMatch(/eyJ/);
    expect(logger.lines.join('\n')).toContain('HTTP 403');
    expect(logger.lines.join('\n')).not.toMatch(/eyJ/);
  });

  it('answers with a clear error when the remote cannot be reached', async () => {
    const port = await closedPort();
    const error = await connect({
      url: `http://127.0.0.1:${port}/mcp`,
      fetch: (i, init) => fetch(i, init),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain(
      `Could not reach the remote MCP server at http://127.0.0.1:${port} (ECONNREFUSED).`,
    );
  });

  it('ends the remote session with a DELETE on close', async () => {
    const {session} = await connect();
    expect(demo.stats.activeSessions).toBe(1);
    await session.close();
    expect(demo.stats.activeSessions).toBe(0);
  });
});
