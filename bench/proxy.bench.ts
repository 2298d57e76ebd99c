/**
 * What `mcp-google-auth proxy` costs, measured side by side in one run against its peer: an
 * MCP SDK client that sends a fixed ID token straight to the same emulated Cloud Run front.
 *
 * - The front, the demo MCP server behind it and the Google emulator run in one child process
 *   (`mcp-google-auth emulator --json`), the HTTP proxy (`proxy URL --port 0`) and the stdio
 *   proxy (`proxy URL`, spawned by the SDK's stdio client) in their own. The clients run here.
 * - For scale, a minimal node:http forwarder with the same fixed token (body read whole,
 *   answer piped back; no sessions, no checks) in the proxy's place: what one more Node.js
 *   process in the path costs at the least.
 * - Latency: MCP tool calls (`add`) one at a time (concurrency 1); throughput: 100 calls in
 *   flight at once on one session (concurrency 100). Each variant runs in blocks that take
 *   turns in a new random order every round, so drift lands on all alike; the spread is the
 *   lowest and highest ratio of a single round.
 * - CPU: the user + system CPU time of the proxy's own process (from /proc, Linux only)
 *   over all its measured calls, divided by their number. The front's process (front, demo
 *   server and emulator together) is shown for scale.
 * - Memory: 1,000 idle sessions opened through an HTTP proxy run in this process (the built
 *   `dist/`), against a stub remote that keeps nothing per session; heap growth after a full
 *   GC, divided by the sessions.
 *
 * Goals (issue 10): HTTP proxy p50 at concurrency 1 <= 1.3x the peer, throughput at
 * concurrency 100 >= 0.8x, CPU <= 1 ms per call; stdio proxy p50 <= 1.3x; <= 64 KiB per idle
 * session. `PROXY_BENCH_ROOT=/path/to/checkout` measures another build (its `dist/`), e.g. the
 * code before a change.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {googleAuthProvider} from '../src/http/google-auth-provider.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import {percentile, printTable} from './table.js';
import type {BenchRow} from './table.js';

const ROOT = resolve(
  process.env.PROXY_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'),
);
const CLI = join(ROOT, 'dist/cli/main.js');

/** Rounds and calls per block (one block of each variant per round). */
const RUNS = {
  latency: {rounds: 10, calls: 60},
  throughput: {rounds: 4, calls: 600, concurrency: 100},
  memory: {sessions: 1_000},
  startup: 7,
} as const;

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface Stack {
  child: ChildProcess;
  mcpUrl: string;
  keyFile: string;
  env: Record<string, string>;
  emulatorHost: string;
}

interface Variant {
  name: string;
  client: Client;
  /** The process whose CPU this variant costs (the proxy), if any. */
  pid?: number;
  cpuMs: number;
  calls: number;
  errors: number;
  latencies: number[];
  roundP50: number[];
  throughput: number[];
  p99c100: number[];
}

/**
 * The global fetch without the transport's AbortSignal. Node 20's fetch removes its listener
 * from a signal only when the request is garbage collected, so the one signal an SDK client
 * passes to every request collects thousands of listeners, and each call pays for a longer
 * list: a cost of the client, not of the path under test. Both HTTP clients use this.
 */
const fetchWithoutSignal = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  fetch(input, init === undefined ? undefined : {...init, signal: undefined});

function progress(what: string): void {
  process.stderr.write(`  proxy bench: ${what}...\n`);
}

function childEnv(stack: Stack): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NO_COLOR: '1',
    ...stack.env,
  };
}

/** Waits for the first line of `stream` that matches `pattern`; rejects if the child exits. */
function firstMatch(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const source = child[stream];
    source?.setEncoding('utf8');
    const onData = (chunk: string): void => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) {
        source?.off('data', onData);
        source?.resume();
        resolvePromise(match);
      }
    };
    source?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${String(code)}): ${text}`)));
  });
}

async function startStack(): Promise<Stack> {
  const child = spawn(process.execPath, [CLI, 'emulator', '--json'], {
    env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  const [line] = await firstMatch(child, 'stdout', /^\{.*\}$/m);
  const info = JSON.parse(line) as {
    mcpUrl: string;
    keyFile: string;
    env: Record<string, string>;
    emulator: {host: string};
  };
  return {
    child,
    mcpUrl: info.mcpUrl,
    keyFile: info.keyFile,
    env: info.env,
    emulatorHost: info.emulator.host,
  };
}

async function fixedToken(stack: Stack): Promise<string> {
  const key = JSON.parse(readFileSync(stack.keyFile, 'utf8')) as Record<string, unknown>;
  const provider = googleAuthProvider({
    authCredential: parseAuthCredential(
      {
        authType: 'serviceAccount',
        serviceAccount: {serviceAccountCredential: key, useIdToken: true},
      },
      {requireAudience: false},
    ),
    targetUrl: stack.mcpUrl,
    cache: new TokenCache(),
    tokenSourceOptions: {emulatorHost: stack.emulatorHost},
  });
  return provider.token();
}

async function startHttpProxyChild(stack: Stack): Promise<{child: ChildProcess; url: string}> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'proxy',
      stack.mcpUrl,
      '--port',
      '0',
      '--key-file',
      stack.keyFile,
      ...(await maxSessionsFlag(500)),
    ],
    {env: childEnv(stack), stdio: ['ignore', 'pipe', 'pipe']},
  );
  // The ready line is on stdout (on stderr before issue 10).
  const pattern = /Proxy ready: (http:\/\/\S+)/;
  const match = await Promise.race([
    firstMatch(child, 'stdout', pattern),
    firstMatch(child, 'stderr', pattern),
  ]);
  child.stdout?.resume();
  child.stderr?.resume();
  return {child, url: match[1]!};
}

let helpText: string | undefined;
/** `--max-sessions N` when the build has it (the code before issue 10 has no cap). */
async function maxSessionsFlag(n: number): Promise<string[]> {
  helpText ??= await new Promise<string>((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--help'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('close', () => resolvePromise(out));
  });
  return helpText.includes('--max-sessions') ? ['--max-sessions', String(n)] : [];
}

/**
 * The physical limit of one more process in the path: a minimal node:http forwarder (the
 * body read whole, the same fixed token set, the response piped back; no session mapping,
 * no checks, no token refresh), as a child process like the proxy.
 */
const MINIMAL_FORWARDER = `
const {createServer, request, Agent} = require('node:http');
const upstream = new URL(process.env.UPSTREAM);
const agent = new Agent({keepAlive: true});
createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = {...req.headers, authorization: process.env.AUTHORIZATION, 'content-length': String(body.length)};
    delete headers.host;
    delete headers.connection;
    const out = request({hostname: upstream.hostname, port: upstream.port, path: upstream.pathname, method: req.method, headers, agent}, (answer) => {
      const back = {...answer.headers};
      delete back.connection;
      delete back['keep-alive'];
      delete back['transfer-encoding'];
      res.writeHead(answer.statusCode, back);
      answer.pipe(res);
    });
    res.on('close', () => out.destroy());
    out.on('error', () => res.destroy());
    out.end(body);
  });
}).listen(0, '127.0.0.1', function () {
  process.stdout.write('ready http://127.0.0.1:' + this.address().port + '/mcp\\n');
});
`;

async function startMinimalForwarder(
  stack: Stack,
  token: string,
): Promise<{child: ChildProcess; url: string}> {
  const child = spawn(process.execPath, ['-e', MINIMAL_FORWARDER], {
    env: {
      PATH: process.env.PATH ?? '',
      UPSTREAM: stack.mcpUrl,
      AUTHORIZATION: `Bearer ${token}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = await firstMatch(child, 'stdout', /ready (http:\/\/\S+)/);
  child.stdout?.resume();
  return {child, url: match[1]!};
}

/** User + system CPU time of a process so far, in milliseconds (Linux /proc). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime field 14, stime field 15 (1-based).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function call(variant: Variant): Promise<void> {
  try {
    const result = await variant.client.callTool({name: 'add', arguments: {a: 20, b: 22}});
    if ((result as {isError?: boolean}).isError) variant.errors++;
  } catch {
    variant.errors++;
  }
}

async function latencyBlock(variant: Variant, calls: number): Promise<void> {
  const latencies: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await call(variant);
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  variant.latencies.push(...latencies);
  variant.roundP50.push(percentile(latencies, 50));
}

async function throughputBlock(
  variant: Variant,
  calls: number,
  concurrency: number,
): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < calls) {
        next++;
        const t = performance.now();
        await call(variant);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  variant.throughput.push(calls / seconds);
  latencies.sort((a, b) => a - b);
  variant.p99c100.push(percentile(latencies, 99));
}

/** Runs `block` for each variant in a random order, `rounds` times, counting the proxy's CPU. */
async function rounds(
  variants: Variant[],
  count: number,
  calls: number,
  block: (v: Variant) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < count; round++) {
    for (const variant of shuffled(variants)) {
      const before = cpuMs(variant.pid);
      await block(variant);
      variant.cpuMs += cpuMs(variant.pid) - before;
      variant.calls += calls;
    }
  }
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function spread(values: number[], anchor: number[]): string {
  const ratios = values.map((value, i) => value / anchor[i]!);
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
}

// ---- memory: 1,000 idle sessions --------------------------------------------------------

/** A remote that answers initialize with a new session id and keeps nothing per session. */
async function startStubRemote(): Promise<{url: string; close(): Promise<void>}> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (req.method !== 'POST') return void res.writeHead(405, {allow: 'POST, DELETE'}).end();
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id?: unknown;
        method?: string;
      };
      if (message.id === undefined) return void res.writeHead(202).end();
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: message.id,
        result: {
          protocolVersion: '2025-06-18',
          capabilities: {tools: {}},
          serverInfo: {name: 'stub', version: '1'},
        },
      });
      res
        .writeHead(200, {'content-type': 'application/json', 'mcp-session-id': `stub-${++next}`})
        .end(body);
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
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
        clientInfo: {name: 'bench', version: '1'},
      },
    }),
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  if (!init.ok || sessionId === null)
    throw new Error(`initialize through the proxy: HTTP ${init.status}`);
  const done = await fetch(url, {
    method: 'POST',
    headers: {...headers, 'mcp-session-id': sessionId},
    body: JSON.stringify({jsonrpc: '2.0', method: 'notifications/initialized'}),
  });
  await done.text();
}

function heapAfterGc(): number {
  const gc = (globalThis as {gc?: () => void}).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** KiB of heap per idle session of an HTTP proxy (the build under test) holding 1,000 of them. */
async function memoryPerSession(): Promise<{kib: number; sessions: number}> {
  const module = (await import(pathToFileURL(join(ROOT, 'dist/cli/proxy/http-proxy.js')).href)) as {
    startHttpProxy(
      options: Record<string, unknown>,
    ): Promise<{url: string; sessions: number; close(): Promise<void>}>;
  };
  const remote = await startStubRemote();
  const proxy = await module.startHttpProxy({
    remoteUrl: remote.url,
    fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init),
    maxSessions: RUNS.memory.sessions + 100,
  });
  try {
    // Warm up (JIT, pools), then measure the growth of the heap held by 1,000 idle sessions.
    for (let i = 0; i < 50; i++) await openIdleSession(proxy.url);
    const before = heapAfterGc();
    const sessionsBefore = proxy.sessions;
    for (let i = 0; i < RUNS.memory.sessions; i++) await openIdleSession(proxy.url);
    const after = heapAfterGc();
    const sessions = proxy.sessions - sessionsBefore;
    return {kib: (after - before) / 1024 / sessions, sessions};
  } finally {
    await proxy.close();
    await remote.close();
  }
}

// ---- start-up: key file against the metadata server without GOOGLE_* -----------------------

/** Milliseconds from spawn to the stdio proxy's ready line on stderr. */
async function timeToReady(args: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, [CLI, 'proxy', ...args], {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  try {
    await firstMatch(child, 'stderr', /Proxy ready/);
    return performance.now() - start;
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Start-up of the stdio proxy, median of {@link RUNS.startup} runs each, taking turns: with
 * `--key-file` (the anchor), and on the metadata server with no `GOOGLE_*` variable at all
 * (what a client that strips them, such as Gemini CLI, leaves). gcloud is on the PATH as on a
 * developer's machine (google-auth-library used to run it to look up a project id).
 */
async function startupTimes(stack: Stack): Promise<{keyFile: number[]; metadata: number[]}> {
  const base = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1'};
  const keyFile = [];
  const metadata = [];
  for (let i = 0; i < RUNS.startup; i++) {
    keyFile.push(
      await timeToReady([stack.mcpUrl, '--key-file', stack.keyFile], {...base, ...stack.env}),
    );
    metadata.push(
      await timeToReady([stack.mcpUrl], {
        ...base,
        GCE_METADATA_HOST: stack.emulatorHost,
        METADATA_SERVER_DETECTION: 'assume-present',
      }),
    );
  }
  return {keyFile, metadata};
}

// ---- the run ------------------------------------------------------------------------------

/** Columns of {@link runProxyBench}'s rows. */
export const PROXY_COLUMNS = [
  'p50 ms c=1',
  'p50 vs anchor',
  'round spread',
  'calls/s c=100',
  'calls/s vs anchor',
  'p99 ms c=100',
  'CPU ms/call',
  'errors',
  'goal',
  'verdict',
];

/**
 * Measures the HTTP and stdio proxies against a fixed-token client on the same emulated
 * front, and the HTTP proxy's memory per idle session. Starts and stops its own processes.
 */
export async function runProxyBench(): Promise<BenchRow[]> {
  const stack = await startStack();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const token = await fixedToken(stack);
    const direct = new Client({name: 'bench-direct', version: '1'});
    await direct.connect(
      new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
        requestInit: {headers: {authorization: `Bearer ${token}`}},
        fetch: fetchWithoutSignal,
      }),
    );
    cleanups.push(() => direct.close());

    const http = await startHttpProxyChild(stack);
    cleanups.push(async () => {
      http.child.kill('SIGTERM');
    });
    const viaHttp = new Client({name: 'bench-http-proxy', version: '1'});
    await viaHttp.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {fetch: fetchWithoutSignal}),
    );
    cleanups.push(() => viaHttp.close());

    const stdioTransport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'proxy', stack.mcpUrl, '--key-file', stack.keyFile],
      env: childEnv(stack),
      stderr: 'ignore',
    });
    const viaStdio = new Client({name: 'bench-stdio-proxy', version: '1'});
    await viaStdio.connect(stdioTransport);
    cleanups.push(() => viaStdio.close());

    const variant = (name: string, client: Client, pid?: number): Variant => ({
      name,
      client,
      ...(pid !== undefined ? {pid} : {}),
      cpuMs: 0,
      calls: 0,
      errors: 0,
      latencies: [],
      roundP50: [],
      throughput: [],
      p99c100: [],
    });
    const anchor = variant('direct', direct, stack.child.pid);
    const viaHttpVariant = variant('http', viaHttp, http.child.pid);
    const viaStdioVariant = variant('stdio', viaStdio, stdioTransport.pid ?? undefined);

    const minimal = await startMinimalForwarder(stack, token);
    cleanups.push(async () => {
      minimal.child.kill('SIGTERM');
    });
    const viaMinimal = new Client({name: 'bench-minimal-forwarder', version: '1'});
    await viaMinimal.connect(
      new StreamableHTTPClientTransport(new URL(minimal.url), {fetch: fetchWithoutSignal}),
    );
    cleanups.push(() => viaMinimal.close());
    const viaMinimalVariant = variant('minimal', viaMinimal, minimal.child.pid);
    const all = [anchor, viaHttpVariant, viaStdioVariant, viaMinimalVariant];

    progress('warming up');
    for (const v of all) for (let i = 0; i < 100; i++) await call(v); // warm-up
    for (const v of all) v.errors = 0;
    progress('latency at concurrency 1');
    await rounds(all, RUNS.latency.rounds, RUNS.latency.calls, (v) =>
      latencyBlock(v, RUNS.latency.calls),
    );
    progress('throughput at concurrency 100');
    await rounds(all, RUNS.throughput.rounds, RUNS.throughput.calls, (v) =>
      throughputBlock(v, RUNS.throughput.calls, RUNS.throughput.concurrency),
    );

    progress('memory of 1,000 idle sessions');
    const memory = await memoryPerSession();
    progress('start-up: key file, and the metadata server without GOOGLE_*');
    const startup = await startupTimes(stack);

    const p50 = (v: Variant): number =>
      percentile(
        [...v.latencies].sort((a, b) => a - b),
        50,
      );
    const anchorP50 = p50(anchor);
    const anchorRate = median(anchor.throughput);
    const cpu = (v: Variant): number => v.cpuMs / v.calls;
    const row = (
      scenario: string,
      v: Variant,
      goal: string,
      met: boolean | undefined,
    ): BenchRow => ({
      group: 'proxy',
      scenario,
      'p50 ms c=1': p50(v),
      'p50 vs anchor': v === anchor ? 1 : p50(v) / anchorP50,
      'round spread': v === anchor ? '' : spread(v.roundP50, anchor.roundP50),
      'calls/s c=100': median(v.throughput),
      'calls/s vs anchor':
        v === anchor
          ? '1.00'
          : `${(median(v.throughput) / anchorRate).toFixed(2)} (${spread(v.throughput, anchor.throughput)})`,
      'p99 ms c=100': median(v.p99c100),
      'CPU ms/call': cpu(v),
      errors: v.errors,
      goal,
      verdict: met === undefined ? '' : met ? 'met' : 'NOT met',
    });
    const httpP50 = p50(viaHttpVariant) / anchorP50;
    const httpRate = median(viaHttpVariant.throughput) / anchorRate;
    const stdioP50 = p50(viaStdioVariant) / anchorP50;
    const keyFileMs = median(startup.keyFile);
    const metadataMs = median(startup.metadata);
    return [
      row(
        'MCP SDK client, fixed token, straight to the front (anchor; CPU: the front, demo server and emulator process)',
        anchor,
        '',
        undefined,
      ),
      row(
        'HTTP proxy (proxy URL --port 0; CPU: the proxy process)',
        viaHttpVariant,
        'p50 <= 1.3x, c=100 >= 0.8x, CPU <= 1 ms',
        httpP50 <= 1.3 && httpRate >= 0.8 && cpu(viaHttpVariant) <= 1,
      ),
      row(
        'stdio proxy (proxy URL; CPU: the proxy process)',
        viaStdioVariant,
        'p50 <= 1.3x',
        stdioP50 <= 1.3,
      ),
      row(
        'minimal node:http forwarder, fixed token, no checks (the limit of one more process; CPU: its process)',
        viaMinimalVariant,
        '',
        undefined,
      ),
      {
        group: 'proxy',
        scenario: `HTTP proxy memory: ${memory.sessions.toLocaleString('en-US')} idle sessions, heap growth after GC`,
        goal: `${memory.kib.toFixed(1)} KiB/session (goal <= 64)`,
        verdict: memory.kib <= 64 ? 'met' : 'NOT met',
      },
      {
        group: 'proxy',
        scenario: `start-up to the ready line, --key-file (median of ${RUNS.startup})`,
        goal: `${keyFileMs.toFixed(0)} ms`,
      },
      {
        group: 'proxy',
        scenario: `start-up to the ready line, metadata server, no GOOGLE_* (median of ${RUNS.startup})`,
        goal: `${metadataMs.toFixed(0)} ms = ${(metadataMs / keyFileMs).toFixed(2)}x the key file`,
      },
    ];
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    stack.child.kill('SIGTERM');
  }
}

/** The title of the proxy table. */
export function proxyBenchTitle(): string {
  return `Proxy: MCP tool calls (\`add\`) through mcp-google-auth proxy against an MCP SDK client sending a fixed token straight to the same emulated front; ${RUNS.latency.rounds} rounds of ${RUNS.latency.calls} calls at concurrency 1, ${RUNS.throughput.rounds} rounds of ${RUNS.throughput.calls} at concurrency 100 (build: ${ROOT})`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  printTable(proxyBenchTitle(), await runProxyBench(), PROXY_COLUMNS);
}
