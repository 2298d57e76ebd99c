/**
 * Per-call cost of `googleAuthFetch` on a warm token cache, against an unauthenticated fetch
 * to the same loopback server in the same run:
 * - an MCP tool call (`add`, MCP SDK Client over Streamable HTTP) straight to the demo MCP
 *   server, with the plain global fetch (the anchor) and with `googleAuthFetch` (the demo
 *   server ignores the header, so the only difference is the wrapper); plus the plain calls
 *   once more on a second session, whose difference from the anchor is the noise floor (on
 *   a busy 2-core machine, about 2% of a call);
 * - one raw GET to a node:http server that answers 200: plain, with the same ID token as a
 *   fixed header (what any authenticated client pays to carry a token: client and server
 *   run in this one process, so the server's parsing counts too), and wrapped;
 * - the wrapper with no I/O at all: `googleAuthFetch` over a stub fetch that answers at once,
 *   against the stub itself. Loopback timings jitter by tens of microseconds from call to
 *   call, more than the wrapper costs; this pair shows the wrapper's own cost on its own.
 * The variants of a group run in blocks that take turns in random order, so that drift (JIT,
 * GC, CPU frequency, other processes) lands on all alike. Goal from the issue: the
 * wrapper costs under 2% of a loopback MCP tool call.
 */
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {startDemoMcpServer} from '../src/emulator/index.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {googleAuthFetch} from '../src/http/google-auth-fetch.js';
import type {FetchLike} from '../src/tokens/google-routing.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import type {BenchRow} from './table.js';

/** Rounds and calls per block of each group (a block of calls of each variant per round). */
const RUNS = {
  mcp: {rounds: 20, calls: 75},
  raw: {rounds: 20, calls: 500},
  stub: {rounds: 10, calls: 20_000},
} as const;

/**
 * Mean µs per call of each of `fns`, over `rounds * calls` calls each: all warmed up, then in
 * every round each function runs a block of `calls` calls, the blocks in a new random order
 * every round. (Blocks rather than single calls taking turns: alternating request shapes call
 * by call slows both down unevenly, through the HTTP client and server code they share.)
 */
export async function interleaved(
  rounds: number,
  calls: number,
  fns: readonly (() => Promise<unknown>)[],
): Promise<number[]> {
  const gc = (globalThis as {gc?: () => void}).gc;
  for (const fn of fns) for (let i = 0; i < calls; i++) await fn();
  const totals = fns.map(() => 0);
  const order = fns.map((_, index) => index);
  for (let round = 0; round < rounds; round++) {
    for (const index of shuffled(order)) {
      const fn = fns[index]!;
      gc?.();
      const start = performance.now();
      for (let i = 0; i < calls; i++) await fn();
      totals[index]! += performance.now() - start;
    }
  }
  return totals.map((ms) => (ms * 1000) / (rounds * calls));
}

/** `items` in a random order (Fisher-Yates, in place). */
function shuffled(items: number[]): number[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function startOkServer(): Promise<{url: string; close(): Promise<void>}> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, {'content-type': 'text/plain', 'content-length': '2'}).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function mcpClient(url: string, fetch: FetchLike): Promise<Client> {
  const client = new Client({name: 'fetch-bench', version: '1.0.0'});
  await client.connect(new StreamableHTTPClientTransport(new URL(url), {fetch}));
  return client;
}

/**
 * Measures the per-call overhead of `googleAuthFetch` (an ID token from a warm cache) on a
 * loopback MCP tool call, on a raw loopback GET and with no I/O. `vs anchor` and the overhead
 * share are against the plain MCP tool call measured in the same run (see {@link FETCH_COLUMNS}).
 * Starts and closes its own demo MCP server and 200 server; `emulator` mints the token.
 */
export async function runFetchBench(emulator: GoogleEmulator): Promise<BenchRow[]> {
  const key = await emulator.createServiceAccountKey(
    'bench-fetch@emulator-project.iam.gserviceaccount.com',
  );
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
  const authFetch = (targetUrl: string, fetch?: FetchLike): FetchLike =>
    googleAuthFetch({
      authCredential,
      targetUrl,
      fetch,
      cache: new TokenCache(),
      tokenSourceOptions: {emulatorHost: emulator.host},
    });
  const plainFetch: FetchLike = (input, init) => fetch(input, init);
  const stubResponse = new Response(null, {status: 200});
  const stubFetch: FetchLike = () => Promise.resolve(stubResponse);

  const demo = await startDemoMcpServer();
  const ok = await startOkServer();
  const clients: Client[] = [];
  try {
    // Three sessions on the same demo server: two plain ones (the second measures the noise
    // floor: what the same calls on another session differ by) and googleAuthFetch
    // (connecting warms its cache). The other wrapped fetches are warmed by one call each.
    const plainClient = await mcpClient(demo.url, plainFetch);
    clients.push(plainClient);
    const plainAgainClient = await mcpClient(demo.url, plainFetch);
    clients.push(plainAgainClient);
    const authClient = await mcpClient(demo.url, authFetch(demo.url));
    clients.push(authClient);
    const okAuthFetch = authFetch(ok.url);
    await (await okAuthFetch(ok.url)).arrayBuffer();
    const stubAuthFetch = authFetch(ok.url, stubFetch);
    await stubAuthFetch(ok.url);
    const token = await emulator.mintIdToken({audience: ok.url.slice(0, -1)});
    const fixedHeaders = {authorization: `Bearer ${token}`};

    const tokensBefore = emulator.requests.byEndpoint.token;
    const add = (client: Client) => () => client.callTool({name: 'add', arguments: {a: 20, b: 22}});
    const get = (f: FetchLike, init?: RequestInit) => async () =>
      (await f(ok.url, init)).arrayBuffer();
    const [mcpPlain, mcpPlainAgain, mcpWrapped] = await interleaved(
      RUNS.mcp.rounds,
      RUNS.mcp.calls,
      [add(plainClient), add(plainAgainClient), add(authClient)],
    );
    const [rawPlain, rawFixed, rawWrapped] = await interleaved(RUNS.raw.rounds, RUNS.raw.calls, [
      get(plainFetch),
      get(plainFetch, {headers: fixedHeaders}),
      get(okAuthFetch),
    ]);
    const [stubPlain, stubWrapped] = await interleaved(RUNS.stub.rounds, RUNS.stub.calls, [
      () => stubFetch(ok.url),
      () => stubAuthFetch(ok.url),
    ]);
    // Token requests while measuring: 0 when every call found the cache warm.
    const tokenRequests = emulator.requests.byEndpoint.token - tokensBefore;

    const anchor = mcpPlain!;
    const row = (
      scenario: string,
      run: {rounds: number; calls: number},
      micros: number,
      plain?: number,
    ): BenchRow => {
      const overhead = plain === undefined ? undefined : micros - plain;
      return {
        group: 'fetch',
        scenario,
        calls: run.rounds * run.calls,
        'µs/call': micros,
        'overhead µs/call': overhead,
        'vs anchor': micros / anchor,
        'overhead % of MCP call':
          overhead === undefined ? undefined : `${((overhead / anchor) * 100).toFixed(2)}%`,
        'token requests': tokenRequests,
      };
    };
    return [
      row('MCP tool call `add`, plain fetch (anchor)', RUNS.mcp, anchor),
      row(
        'MCP tool call `add`, plain fetch, another session (noise)',
        RUNS.mcp,
        mcpPlainAgain!,
        anchor,
      ),
      row('MCP tool call `add`, googleAuthFetch', RUNS.mcp, mcpWrapped!, anchor),
      row('raw GET to a 200 server, plain fetch', RUNS.raw, rawPlain!),
      row('raw GET, plain fetch + the same token as a fixed header', RUNS.raw, rawFixed!, rawPlain),
      row('raw GET, googleAuthFetch', RUNS.raw, rawWrapped!, rawPlain),
      row('no I/O: a stub fetch', RUNS.stub, stubPlain!),
      row('no I/O: googleAuthFetch over the stub', RUNS.stub, stubWrapped!, stubPlain),
    ];
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await demo.close();
    await ok.close();
  }
}

/**
 * Columns of {@link runFetchBench}'s rows, in order: mean µs per call, the overhead over the
 * unauthenticated row of the same group, that row against the anchor (the plain MCP tool
 * call), the overhead as a share of the anchor, and the token requests made while measuring
 * (0 on a warm cache).
 */
export const FETCH_COLUMNS = [
  'calls',
  'µs/call',
  'overhead µs/call',
  'vs anchor',
  'overhead % of MCP call',
  'token requests',
];
