/**
 * Attack: memory growth through refused initializes (issue 9, item 6). An `initialize` that
 * is answered 406 (no acceptable `Accept`), 415 (not JSON) or 400 (a bad body) used to leave
 * a session "starting" in the proxy forever, about 4.6 KiB each, with no bound: anyone who
 * reaches the port could grow the proxy without limit. A refused request must leave nothing
 * behind, in the proxy and at the remote.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {nodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import type {NodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import type {DemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {heapAfterGc} from '../cli/support/heap.js';

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

/** The refused kinds of initialize, and the status each gets. */
const REFUSED: {what: string; status: number; init: RequestInit}[] = [
  {
    what: 'no acceptable Accept',
    status: 406,
    init: {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'text/html'},
      body: INITIALIZE,
    },
  },
  {
    what: 'not JSON by its content type',
    status: 415,
    init: {
      method: 'POST',
      headers: {'content-type': 'text/plain', accept: 'application/json, text/event-stream'},
      body: INITIALIZE,
    },
  },
  {
    what: 'a body that is not JSON',
    status: 400,
    init: {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream'},
      body: '{"jsonrpc": "2.0", "method": "initialize", ',
    },
  },
];

/** Refused initializes sent, in bounded batches. */
const FLOOD = 1_000;

describe('attack: refused initializes against the HTTP proxy', () => {
  let demo: DemoMcpServer;
  let remoteFetch: NodeHttpFetch;
  let proxy: HttpProxy;

  beforeAll(async () => {
    demo = await startDemoMcpServer();
    remoteFetch = nodeHttpFetch();
    proxy = await startHttpProxy({remoteUrl: demo.url, fetch: remoteFetch});
  });

  afterAll(async () => {
    await proxy.close();
    remoteFetch.close();
    await demo.close();
  });

  it.each(REFUSED)(
    'an initialize with $what is refused ($status) and leaves no session',
    async ({status, init}) => {
      const res = await fetch(proxy.url, init);
      expect(res.status).toBe(status);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      await res.body?.cancel();
      expect(proxy.sessions).toBe(0);
      expect(proxy.stats.startingSessions).toBe(0);
      expect(demo.stats.activeSessions).toBe(0);
    },
  );

  it(`${FLOOD.toLocaleString('en-US')} refused initializes leave nothing behind (heap after GC grows < 1 MiB)`, async () => {
    const batch = async (n: number): Promise<void> => {
      await Promise.all(
        Array.from({length: 50}, async (_, i) => {
          const res = await fetch(proxy.url, REFUSED[(n + i) % REFUSED.length]!.init);
          await res.arrayBuffer();
          expect(res.status).toBeGreaterThanOrEqual(400);
        }),
      );
    };
    // Warm up at the same concurrency (JIT, and the kept-alive connections of every hop: the
    // first thousand requests grow any server's heap by a megabyte or so, once), then measure.
    for (let n = 0; n < 16; n++) await batch(n);
    const before = await heapAfterGc();
    for (let n = 0; n < FLOOD / 50; n++) await batch(n);
    const grown = (await heapAfterGc()) - before;
    expect(proxy.sessions).toBe(0);
    expect(proxy.stats.startingSessions).toBe(0);
    expect(demo.stats.activeSessions).toBe(0);
    // 4.6 KiB each before the fix would be about 4.5 MiB here.
    expect(grown).toBeLessThan(1024 * 1024);
  }, 60_000);
});
