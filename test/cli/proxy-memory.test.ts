/**
 * Memory of the HTTP proxy per idle session (issue 10: at most 64 KiB, proven at 1,000
 * sessions). A session holds its local id, the remote id, the client's `initialize` and
 * `notifications/initialized` (for a replay) and an idle timer; nothing per request. Measured
 * as the growth of the heap after full garbage collections, against a remote that keeps
 * nothing per session. (`bench/proxy.bench.ts` reports the figure.)
 */
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startHttpProxy} from '../../src/cli/proxy/http-proxy.js';
import type {HttpProxy} from '../../src/cli/proxy/http-proxy.js';
import {nodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import type {NodeHttpFetch} from '../../src/cli/proxy/node-http-fetch.js';
import {heapAfterGc} from './support/heap.js';

const SESSIONS = 1_000;
const BUDGET_BYTES = 64 * 1024;

/** Answers initialize with a fresh session id and 202 to notifications; remembers nothing. */
async function startForgetfulRemote(): Promise<{url: string; close(): Promise<void>}> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (!body.includes('"initialize"')) return void res.writeHead(202).end();
      res
        .writeHead(200, {'content-type': 'application/json', 'mcp-session-id': `remote-${++next}`})
        .end(
          '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"stub","version":"1"}}}',
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function openIdleSession(url: string): Promise<void> {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: {name: 'idle', version: '1.0.0'},
      },
    }),
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  expect(sessionId).toBeTruthy();
  const done = await fetch(url, {
    method: 'POST',
    headers: {
      ...headers,
      'mcp-session-id': sessionId as string,
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({jsonrpc: '2.0', method: 'notifications/initialized'}),
  });
  expect(done.status).toBe(202);
  await done.text();
}

describe('HTTP proxy memory per idle session', () => {
  let remote: {url: string; close(): Promise<void>};
  let fetchRemote: NodeHttpFetch;
  let proxy: HttpProxy;

  beforeAll(async () => {
    remote = await startForgetfulRemote();
    fetchRemote = nodeHttpFetch();
    proxy = await startHttpProxy({
      remoteUrl: remote.url,
      fetch: fetchRemote,
      maxSessions: SESSIONS + 200,
    });
  });

  afterAll(async () => {
    await proxy.close();
    fetchRemote.close();
    await remote.close();
  });

  it(`holds ${SESSIONS.toLocaleString('en-US')} idle sessions in at most 64 KiB each`, async () => {
    // Warm up (JIT, connection pools, the first megabyte any server grows by), then measure.
    for (let i = 0; i < 150; i++) await openIdleSession(proxy.url);
    const before = await heapAfterGc();
    const opened = proxy.sessions;
    for (let batch = 0; batch < SESSIONS / 10; batch++) {
      await Promise.all(Array.from({length: 10}, () => openIdleSession(proxy.url)));
    }
    const perSession = ((await heapAfterGc()) - before) / (proxy.sessions - opened);
    expect(proxy.sessions - opened).toBe(SESSIONS);
    expect(perSession).toBeLessThan(BUDGET_BYTES);
  }, 60_000);
});
