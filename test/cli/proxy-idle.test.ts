/**
 * The HTTP proxy closes a local session that has been idle (no request in flight, no open GET
 * stream) for `idleTimeoutMs`, and ends its remote session with a DELETE. Time is driven by
 * hand through the proxy's `timers` option; the remote is the demo MCP server.
 */
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy, HttpProxyOptions} from '../../src/cli/proxy/http-proxy.js';
import type {ProxyTimers} from '../../src/util/idle-timer.js';
import type {ProxyLogger} from '../../src/cli/proxy/proxy-logger.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';

const MINUTE = 60_000;
const TIMEOUT = 30 * MINUTE;

interface ManualClock {
  readonly timers: ProxyTimers;
  /** Moves time on, firing every timer that falls due. */
  advance(ms: number): void;
  /** When the earliest pending timer falls due, or undefined when none is pending. */
  nextDue(): number | undefined;
  now(): number;
  /** Handles that were not unref'd. */
  readonly refHandles: number;
}

function manualClock(): ManualClock {
  let now = 0;
  let refHandles = 0;
  const pending = new Map<object, {at: number; callback: () => void}>();
  return {
    timers: {
      setTimeout(callback, ms) {
        refHandles++;
        const handle = {unref: () => void refHandles--};
        pending.set(handle, {at: now + ms, callback});
        return handle;
      },
      clearTimeout(handle) {
        pending.delete(handle as object);
      },
    },
    advance(ms) {
      now += ms;
      for (const [handle, timer] of [...pending]) {
        if (timer.at > now || !pending.has(handle)) continue;
        pending.delete(handle);
        timer.callback();
      }
    },
    nextDue() {
      const due = [...pending.values()].map((timer) => timer.at);
      return due.length === 0 ? undefined : Math.min(...due);
    },
    now: () => now,
    get refHandles() {
      return refHandles;
    },
  };
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

interface Answer {
  status: number;
  sessionId: string | null;
  text: string;
}

/** One JSON-RPC POST to the proxy, its response read to the end. */
async function post(url: string, body: unknown, sessionId?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(sessionId !== undefined ? {'mcp-session-id': sessionId} : {}),
    },
    body: JSON.stringify(body),
  });
  return {status: res.status, sessionId: res.headers.get('mcp-session-id'), text: await res.text()};
}

/** Initializes a local session through the proxy; returns its id. */
async function initialize(url: string): Promise<string> {
  const init = await post(url, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: {name: 'idle-test', version: '1.0.0'},
    },
  });
  expect(init.status).toBe(200);
  expect(init.sessionId).toBeTruthy();
  const sessionId = init.sessionId as string;
  const initialized = await post(
    url,
    {jsonrpc: '2.0', method: 'notifications/initialized'},
    sessionId,
  );
  expect(initialized.status).toBe(202);
  return sessionId;
}

async function echo(url: string, sessionId: string, text: string): Promise<Answer> {
  return post(
    url,
    {jsonrpc: '2.0', id: 1, method: 'tools/call', params: {name: 'echo', arguments: {text}}},
    sessionId,
  );
}

describe('startHttpProxy idle timeout', () => {
  let demo: DemoMcpServer;
  let clock: ManualClock;
  let logger: ReturnType<typeof recordingLogger>;
  const proxies: HttpProxy[] = [];

  beforeEach(async () => {
    demo = await startDemoMcpServer();
    clock = manualClock();
    logger = recordingLogger();
  });

  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
    await demo.close();
  });

  async function start(options: Partial<HttpProxyOptions> = {}): Promise<HttpProxy> {
    const proxy = await startHttpProxy({
      remoteUrl: demo.url,
      fetch: (input, init) => fetch(input, init),
      timers: clock.timers,
      logger,
      ...options,
    });
    proxies.push(proxy);
    return proxy;
  }

  /** Waits until the proxy has seen every response close and armed a full idle countdown. */
  async function settled(timeoutMs = TIMEOUT): Promise<void> {
    await vi.waitFor(() => expect(clock.nextDue()).toBe(clock.now() + timeoutMs));
  }

  it('closes an idle session after the timeout, DELETEs the remote session, and answers 404 after', async () => {
    const proxy = await start();
    const sessionId = await initialize(proxy.url);
    expect((await echo(proxy.url, sessionId, 'hi')).text).toContain('hi');
    expect(demo.stats.activeSessions).toBe(1);
    expect(proxy.sessions).toBe(1);
    await settled();

    clock.advance(TIMEOUT - 1);
    expect(proxy.sessions).toBe(1);
    clock.advance(1);
    expect(proxy.sessions).toBe(0);
    await vi.waitFor(() => expect(demo.stats.activeSessions).toBe(0));
    expect(demo.stats.unknownSessionRequests).toBe(0);

    const idleLines = logger.lines.filter((line) => line.includes('idle'));
    expect(idleLines).toEqual([
      `info: Closed local session ${sessionId.slice(0, 8)} after 30 minutes idle (no request, no open stream); ending its remote session.`,
    ]);
    expect(clock.refHandles).toBe(0);

    const late = await echo(proxy.url, sessionId, 'late');
    expect(late.status).toBe(404);
    expect(late.text).toContain('Session not found');
    // A well-behaved client re-initializes and carries on with a new remote session.
    const again = await initialize(proxy.url);
    expect((await echo(proxy.url, again, 'back')).text).toContain('back');
    expect(demo.stats.sessions).toBe(2);
    expect(demo.stats.activeSessions).toBe(1);
  });

  it('keeps a session whose client keeps sending requests', async () => {
    const proxy = await start();
    const sessionId = await initialize(proxy.url);
    await settled();
    for (let i = 0; i < 3; i++) {
      clock.advance(TIMEOUT - MINUTE);
      const answer = await echo(proxy.url, sessionId, `tick ${i}`);
      expect(answer.status).toBe(200);
      expect(answer.text).toContain(`tick ${i}`);
      await settled();
    }
    expect(proxy.sessions).toBe(1);
    expect(demo.stats.activeSessions).toBe(1);
    expect(logger.lines.filter((line) => line.includes('idle'))).toEqual([]);
  });

  it('keeps a session while its GET stream is open, and counts from when it closes', async () => {
    const proxy = await start();
    const sessionId = await initialize(proxy.url);
    await settled();
    const stream = new AbortController();
    const get = await fetch(proxy.url, {
      headers: {accept: 'text/event-stream', 'mcp-session-id': sessionId},
      signal: stream.signal,
    });
    expect(get.status).toBe(200);
    await vi.waitFor(() => expect(clock.nextDue()).toBeUndefined());

    clock.advance(3 * TIMEOUT);
    expect(proxy.sessions).toBe(1);
    expect((await echo(proxy.url, sessionId, 'still here')).text).toContain('still here');
    // The request ended, but the stream is still open: nothing counts down.
    await vi.waitFor(() => expect(clock.nextDue()).toBeUndefined());

    stream.abort();
    await settled();
    clock.advance(TIMEOUT);
    expect(proxy.sessions).toBe(0);
    await vi.waitFor(() => expect(demo.stats.activeSessions).toBe(0));
  });

  it('never closes an idle session with idleTimeoutMs 0', async () => {
    const proxy = await start({idleTimeoutMs: 0});
    const sessionId = await initialize(proxy.url);
    expect((await echo(proxy.url, sessionId, 'one')).status).toBe(200);
    expect(clock.nextDue()).toBeUndefined();
    clock.advance(365 * 24 * 60 * MINUTE);
    expect(proxy.sessions).toBe(1);
    expect((await echo(proxy.url, sessionId, 'two')).text).toContain('two');
  });

  it('clears its pending timers on close', async () => {
    const proxy = await start({idleTimeoutMs: 5_000});
    await initialize(proxy.url);
    await settled(5_000);
    await proxy.close();
    expect(clock.nextDue()).toBeUndefined();
    expect(demo.stats.activeSessions).toBe(0);
  });

  it('rejects a bad idleTimeoutMs with a TypeError naming the option', async () => {
    for (const idleTimeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      const started = start({idleTimeoutMs});
      await expect(started).rejects.toThrow(TypeError);
      await expect(started).rejects.toThrow(/options\.idleTimeoutMs/);
    }
  });
});
