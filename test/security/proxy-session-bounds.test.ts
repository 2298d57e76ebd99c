/**
 * Attack: unbounded sessions (issue 9, item 7). The HTTP proxy held any number of remote
 * sessions until their idle timeout, so anyone who reaches its port could open thousands
 * (each one a session at the remote, held with the proxy's identity). Now at most
 * `maxSessions` (default 100) are open or starting; one more gets 503 with `Retry-After`.
 * The demo MCP server (what the emulator runs behind the front) is bounded the same way, and
 * forgets sessions idle for too long.
 */
import {afterEach, describe, expect, it, vi} from 'vitest';
import {DEFAULT_MAX_SESSIONS, startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy, HttpProxyOptions} from '../../src/cli/proxy/http-proxy.js';
import {nodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer, DemoMcpServerOptions} from '../../src/emulator/demo-mcp-server.js';
import type {ProxyTimers} from '../../src/util/idle-timer.js';
import {recordingLogger} from '../cli/support/proxy-stack.js';
import {startRawRemote} from '../cli/support/raw-remote.js';

const HEADERS = {'content-type': 'application/json', accept: 'application/json, text/event-stream'};
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: {name: 'flood', version: '1'},
  },
});

async function initialize(
  url: string,
): Promise<{status: number; sessionId: string | null; retryAfter: string | null; body: string}> {
  const res = await fetch(url, {method: 'POST', headers: HEADERS, body: INITIALIZE});
  return {
    status: res.status,
    sessionId: res.headers.get('mcp-session-id'),
    retryAfter: res.headers.get('retry-after'),
    body: await res.text(),
  };
}

describe('attack: a session flood against the HTTP proxy', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    demoOptions: DemoMcpServerOptions,
    options: Partial<HttpProxyOptions> = {},
  ): Promise<{demo: DemoMcpServer; proxy: HttpProxy}> {
    const demo = await startDemoMcpServer(demoOptions);
    cleanups.push(() => demo.close());
    const fetch = nodeHttpFetch();
    cleanups.push(() => fetch.close());
    const proxy = await startHttpProxy({remoteUrl: demo.url, fetch, ...options});
    cleanups.push(() => proxy.close());
    return {demo, proxy};
  }

  it(`holds at most ${DEFAULT_MAX_SESSIONS} sessions by default; one more gets 503 with Retry-After, and a freed place is taken again`, async () => {
    const logger = recordingLogger();
    const {demo, proxy} = await start({}, {logger});
    const opened: string[] = [];
    for (let batch = 0; batch < DEFAULT_MAX_SESSIONS / 20; batch++) {
      const answers = await Promise.all(Array.from({length: 20}, () => initialize(proxy.url)));
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        opened.push(answer.sessionId as string);
      }
    }
    expect(proxy.sessions).toBe(DEFAULT_MAX_SESSIONS);

    const refused = await initialize(proxy.url);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.sessionId).toBeNull();
    expect(JSON.parse(refused.body)).toMatchObject({
      error: {code: -32000, message: expect.stringContaining('maximum of 100 sessions')},
    });
    expect(demo.stats.sessions).toBe(DEFAULT_MAX_SESSIONS);
    expect(proxy.stats.refusedSessions).toBe(1);
    expect(logger.lines.join('\n')).toContain('--max-sessions');

    // The client of one session leaves: its place is free again.
    const left = await fetch(proxy.url, {
      method: 'DELETE',
      headers: {'mcp-session-id': opened[0] as string},
    });
    expect(left.status).toBe(200);
    expect((await initialize(proxy.url)).status).toBe(200);
    expect(proxy.sessions).toBe(DEFAULT_MAX_SESSIONS);
  });

  it('counts sessions still starting: 30 initializes at once against --max-sessions 5 open exactly 5', async () => {
    // A slow remote: every initialize is still on its way while the others arrive.
    let next = 0;
    const raw = await startRawRemote(() => ({
      status: 200,
      headers: {'content-type': 'application/json', 'mcp-session-id': `remote-${++next}`},
      chunks: [
        '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"r","version":"1"}}}',
      ],
    }));
    cleanups.push(() => raw.close());
    const fetch = nodeHttpFetch();
    cleanups.push(() => fetch.close());
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
      gate.then(() => fetch(input, init));
    const proxy = await startHttpProxy({remoteUrl: raw.url, fetch: slow, maxSessions: 5});
    cleanups.push(() => proxy.close());
    const answers = Array.from({length: 30}, () => initialize(proxy.url));
    await vi.waitFor(() => expect(proxy.stats.refusedSessions).toBe(25));
    expect(proxy.stats.startingSessions).toBe(5);
    release();
    const statuses = (await Promise.all(answers)).map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 503)).toHaveLength(25);
    expect(raw.requests).toHaveLength(5);
    expect(proxy.sessions).toBe(5);
    expect(proxy.stats.startingSessions).toBe(0);
  });
});

describe('attack: a session flood against the demo MCP server', () => {
  const servers: DemoMcpServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  async function demo(options: DemoMcpServerOptions): Promise<DemoMcpServer> {
    const started = await startDemoMcpServer(options);
    servers.push(started);
    return started;
  }

  it('holds at most maxSessions (Streamable HTTP and SSE); one more gets 503 with Retry-After', async () => {
    const server = await demo({maxSessions: 3});
    for (let i = 0; i < 3; i++) expect((await initialize(server.url)).status).toBe(200);
    const refused = await initialize(server.url);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    const sse = await fetch(server.sseUrl);
    expect(sse.status).toBe(503);
    await sse.body?.cancel();
    expect(server.stats.activeSessions).toBe(3);
    expect(server.stats.refusedSessions).toBe(2);
  });

  it('is bounded by default (1,000 sessions)', async () => {
    const server = await demo({});
    const batches = 1000 / 50;
    for (let batch = 0; batch < batches; batch++) {
      await Promise.all(Array.from({length: 50}, () => initialize(server.url)));
    }
    expect(server.stats.activeSessions).toBe(1000);
    expect((await initialize(server.url)).status).toBe(503);
  }, 60_000);

  it('forgets a session idle for idleTimeoutMs (its next request gets 404), not one in use', async () => {
    let now = 0;
    const pending = new Map<object, {at: number; callback: () => void}>();
    const timers: ProxyTimers = {
      setTimeout(callback, ms) {
        const handle = {unref: () => undefined};
        pending.set(handle, {at: now + ms, callback});
        return handle;
      },
      clearTimeout(handle) {
        pending.delete(handle as object);
      },
    };
    const advance = (ms: number): void => {
      now += ms;
      for (const [handle, timer] of [...pending]) {
        if (timer.at > now || !pending.has(handle)) continue;
        pending.delete(handle);
        timer.callback();
      }
    };
    const armed = (): number[] => [...pending.values()].map((timer) => timer.at);
    const server = await demo({idleTimeoutMs: 60_000, timers});
    const idle = (await initialize(server.url)).sessionId as string;
    const busy = (await initialize(server.url)).sessionId as string;
    await vi.waitFor(() => expect(armed()).toEqual([60_000, 60_000]));
    advance(45_000);
    const ping = await fetch(server.url, {
      method: 'POST',
      headers: {...HEADERS, 'mcp-session-id': busy, 'mcp-protocol-version': '2025-06-18'},
      body: JSON.stringify({jsonrpc: '2.0', id: 2, method: 'ping'}),
    });
    expect(ping.status).toBe(200);
    await ping.text();
    // The busy session counts down again from its last request.
    await vi.waitFor(() => expect(armed().sort((a, b) => a - b)).toEqual([60_000, 105_000]));
    advance(20_000);
    expect(server.stats.expiredSessions).toBe(1);
    expect(server.stats.activeSessions).toBe(1);
    const gone = await fetch(server.url, {
      method: 'POST',
      headers: {...HEADERS, 'mcp-session-id': idle},
      body: JSON.stringify({jsonrpc: '2.0', id: 3, method: 'ping'}),
    });
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });

  it('rejects bad bounds with a TypeError naming the option', async () => {
    await expect(startDemoMcpServer({maxSessions: 0})).rejects.toThrow(/options\.maxSessions/);
    await expect(startDemoMcpServer({idleTimeoutMs: -1})).rejects.toThrow(/options\.idleTimeoutMs/);
  });
});
