/**
 * The Cloud Run front and kept-alive connections to its upstream. An upstream (any HTTP
 * server) closes an idle kept-alive connection when its keep-alive timeout fires; when that
 * happens just as the front picks the connection for the next request, the request fails
 * before any answer (ECONNRESET, "socket hang up"). Under concurrency that used to surface as
 * a 502 now and then (a few in ~20k requests). The front must send such a request again on a
 * new connection, as Node.js documents for `request.reusedSocket`.
 */
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {startCloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import type {CloudRunGateway} from '../../src/emulator/cloud-run-gateway.js';
import {startDemoMcpServer} from '../../src/emulator/demo-mcp-server.js';
import {startGoogleEmulator} from '../../src/emulator/google-emulator.js';
import type {GoogleEmulator} from '../../src/emulator/google-emulator.js';

/**
 * An upstream that plays the keep-alive race on every reused connection: it answers the first
 * request of a connection, and closes the connection, unanswered, when the next one arrives on
 * it (what a keep-alive timeout firing at that moment looks like to the client).
 */
async function startRacingUpstream(): Promise<{
  origin: string;
  answered: () => number;
  dropped: () => number;
  bodies: string[];
  close(): Promise<void>;
}> {
  let answered = 0;
  let dropped = 0;
  const bodies: string[] = [];
  const served = new WeakSet<object>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (served.has(req.socket)) {
        dropped++;
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      answered++;
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      res
        .writeHead(200, {'content-type': 'text/plain', 'keep-alive': 'timeout=60'})
        .end(`ok ${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answered: () => answered,
    dropped: () => dropped,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function inBatches<T>(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < total) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe('Cloud Run front: kept-alive upstream connections', () => {
  let emu: GoogleEmulator;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    emu = await startGoogleEmulator();
  });

  afterAll(async () => {
    await emu.close();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function front(upstream: string): Promise<{gateway: CloudRunGateway; token: string}> {
    const gateway = await startCloudRunGateway({upstream, jwksUrl: emu.jwksUrl});
    cleanups.push(() => gateway.close());
    const token = await emu.mintIdToken({audience: gateway.url});
    return {gateway, token};
  }

  it('sends a request again on a new connection when a reused one was closed under it (no 502)', async () => {
    const upstream = await startRacingUpstream();
    cleanups.push(() => upstream.close());
    const {gateway, token} = await front(upstream.origin);
    // Sequential first, so connections are certainly reused; then 200 at concurrency 20.
    const send = (i: number) =>
      fetch(`${gateway.url}/echo`, {
        method: 'POST',
        headers: {authorization: `Bearer ${token}`, 'content-type': 'text/plain'},
        body: `request ${i}`,
      }).then(async (res) => ({status: res.status, text: await res.text()}));
    const results = [
      ...(await inBatches(20, 1, send)),
      ...(await inBatches(200, 20, (i) => send(i + 20))),
    ];
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.every((r, i) => r.text === `ok request ${i}`)).toBe(true);
    // The race did happen, and every request reached the upstream exactly once.
    expect(upstream.dropped()).toBeGreaterThan(0);
    expect(upstream.answered()).toBe(220);
    expect(gateway.stats.upstreamErrors).toBe(0);
    expect(gateway.stats.forwarded).toBe(220);
  });

  it('still answers 502 when the upstream cannot be reached at all', async () => {
    const upstream = await startRacingUpstream();
    const origin = upstream.origin;
    await upstream.close();
    const {gateway, token} = await front(origin);
    const res = await fetch(`${gateway.url}/mcp`, {headers: {authorization: `Bearer ${token}`}});
    expect(res.status).toBe(502);
    await res.body?.cancel();
    expect(gateway.stats.upstreamErrors).toBe(1);
  });

  it('serves 1,000 MCP tool calls at concurrency 50 through the front to the demo server without a 502', async () => {
    const demo = await startDemoMcpServer();
    cleanups.push(() => demo.close());
    const {gateway, token} = await front(demo.origin);
    const clients = await Promise.all(
      Array.from({length: 5}, async () => {
        const client = new Client({name: 'keep-alive', version: '1'});
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
            requestInit: {headers: {authorization: `Bearer ${token}`}},
          }),
        );
        cleanups.push(() => client.close());
        return client;
      }),
    );
    const results = await inBatches(1000, 50, (i) =>
      clients[i % clients.length]!.callTool({name: 'add', arguments: {a: i, b: 1}}).then(
        (result) => (result.content as {text: string}[])[0]?.text,
        (error: unknown) => `failed: ${String(error)}`,
      ),
    );
    expect(results.filter((text, i) => text !== String(i + 1))).toEqual([]);
    expect(gateway.stats.upstreamErrors).toBe(0);
  }, 60_000);
});
