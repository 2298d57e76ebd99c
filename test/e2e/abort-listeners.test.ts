/**
 * No per-call growth on long-lived signals: the MCP SDK's Streamable HTTP transport hands the
 * same `AbortSignal` (one per session) to every request it sends. Whatever googleAuthFetch
 * and McpToolset do with it per call must be undone when the call ends; otherwise every call
 * leaves an abort listener on a signal that lives as long as the session, and a long session
 * warns `MaxListenersExceededWarning` and grows. The 100,000-call version is `npm run soak --
 * --leak`.
 */
import {getEventListeners} from 'node:events';
import v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {startDemoMcpServer} from '../../src/emulator/index.js';
import type {DemoMcpServer} from '../../src/emulator/index.js';
import {googleAuthFetch} from '../../src/http/google-auth-fetch.js';
import {McpToolset} from '../../src/mcp/mcp-toolset.js';
import type {FetchLike} from '../../src/tokens/google-routing.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import {FakeTokenSource, startLoopback} from '../http/support/loopback.js';
import type {Loopback} from '../http/support/loopback.js';

/** One leaked listener per call would show as a thousand here; `npm run soak -- --leak` runs 100,000. */
const CALLS = 1_000;
/** Listeners a long-lived signal may carry: the relay's, whatever is in flight. */
const LISTENER_BOUND = 1;

const credential = {
  authType: 'serviceAccount',
  serviceAccount: {useDefaultCredential: true, useIdToken: true},
} as const;

let demo: DemoMcpServer;
let warnings: Error[];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  demo = await startDemoMcpServer();
});
afterAll(async () => {
  await demo.close();
});
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** A full garbage collection (exposed at run time, as vitest runs without --expose-gc). */
function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** A fetch that records the most listeners seen on each signal handed to it, per signal. */
function probe(inner: FetchLike = (input, init) => fetch(input, init)) {
  const peak = new Map<AbortSignal, {calls: number; peak: number}>();
  const wrapped: FetchLike = (input, init) => {
    const signal = init?.signal ?? undefined;
    if (signal) {
      const seen = peak.get(signal) ?? {calls: 0, peak: 0};
      seen.calls++;
      seen.peak = Math.max(seen.peak, listeners(signal));
      peak.set(signal, seen);
    }
    return inner(input, init);
  };
  return {
    fetch: wrapped,
    /** Signals handed down more than once (a per-call signal is handed down once, or twice after a 401). */
    longLived: () => [...peak.values()].filter((seen) => seen.calls > 2),
    signals: () => peak.size,
  };
}

function maxListenerWarnings(): Error[] {
  return warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning');
}

describe('abort listeners on long-lived signals', {timeout: 90_000}, () => {
  it('googleAuthFetch: the caller signal carries one listener in all, however many calls', async () => {
    const server: Loopback = await startLoopback();
    try {
      const below = probe();
      const authFetch = googleAuthFetch({
        authCredential: credential,
        tokenSource: new FakeTokenSource({jwt: true}),
        cache: new TokenCache(),
        fetch: below.fetch,
      });
      const session = new AbortController();
      let peak = 0;
      for (let i = 0; i < CALLS; i++) {
        const response = await authFetch(`${server.origin}/mcp`, {
          method: 'POST',
          body: '{}',
          signal: session.signal,
        });
        peak = Math.max(peak, listeners(session.signal));
        await response.text();
        peak = Math.max(peak, listeners(session.signal));
      }
      // One listener in all (the relay that aborts the calls still alive), however many calls.
      expect(peak).toBe(1);
      expect(listeners(session.signal)).toBe(1);
      expect(below.longLived()).toEqual([]);
      expect(maxListenerWarnings()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('googleAuthFetch: aborting the caller signal still aborts a request and its body', async () => {
    const server: Loopback = await startLoopback((_req, res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'});
      res.write('data: first\n\n');
      // The stream stays open until the client goes away.
    });
    try {
      const authFetch = googleAuthFetch({
        authCredential: credential,
        tokenSource: new FakeTokenSource({jwt: true}),
        cache: new TokenCache(),
      });
      const session = new AbortController();
      // Only the body's reader is kept, as the SDK does with an event stream.
      const reader = (
        await authFetch(`${server.origin}/sse`, {signal: session.signal})
      ).body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('first');
      // Unread responses dropped on the floor leave nothing on the session's signal.
      for (let i = 0; i < 200; i++)
        await authFetch(`${server.origin}/x${i}`, {signal: session.signal}).catch(() => undefined);
      expect(listeners(session.signal)).toBe(1);
      // A full collection: the call must survive it through the body its reader reads.
      forceGc();
      await new Promise((resolve) => setImmediate(resolve));
      forceGc();
      session.abort(new Error('closed'));
      const notAborted = new Promise((resolve) => setTimeout(resolve, 5_000, 'still streaming'));
      await expect(Promise.race([reader.read(), notAborted])).rejects.toThrow();
      expect(listeners(session.signal)).toBe(0);

      const before = new AbortController();
      before.abort(new Error('already'));
      await expect(authFetch(`${server.origin}/x`, {signal: before.signal})).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it(`SDK client with googleAuthFetch: ${CALLS} tool calls leave the transport's signal flat`, async () => {
    const below = probe();
    const authFetch = googleAuthFetch({
      authCredential: credential,
      tokenSource: new FakeTokenSource({jwt: true}),
      cache: new TokenCache(),
      fetch: below.fetch,
    });
    const transportSignals = new Set<AbortSignal>();
    let peak = 0;
    const client = new Client({name: 'leak-test', version: '1.0.0'});
    const transport = new StreamableHTTPClientTransport(new URL(demo.url), {
      fetch: (input, init) => {
        if (init?.signal) transportSignals.add(init.signal);
        return authFetch(input, init);
      },
    });
    await client.connect(transport);
    try {
      for (let i = 0; i < CALLS; i++) {
        await client.callTool({name: 'add', arguments: {a: i, b: 1}});
        if (i % 50 === 0) for (const s of transportSignals) peak = Math.max(peak, listeners(s));
      }
      expect(transportSignals.size).toBe(1);
      expect(peak).toBeLessThanOrEqual(LISTENER_BOUND);
      expect(below.longLived()).toEqual([]);
      expect(maxListenerWarnings()).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it(`McpToolset: ${CALLS} tool calls hand no long-lived signal down and warn nothing`, async () => {
    const below = probe();
    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: demo.url},
      authCredential: credential,
      tokenSource: new FakeTokenSource({jwt: true}),
      cache: new TokenCache(),
      fetch: below.fetch,
      headerProvider: () => ({'x-trace': 'leak-test'}),
    });
    try {
      const [add] = (await toolset.getTools()).filter((tool) => tool.name === 'add');
      for (let i = 0; i < CALLS; i++) await add!.runAsync({a: i, b: 1});
      expect(below.longLived()).toEqual([]);
      expect(below.signals()).toBeGreaterThan(CALLS);
      expect(toolset.sessionsOpened).toBe(1);
      expect(maxListenerWarnings()).toEqual([]);
    } finally {
      await toolset.close();
    }
  });
});
