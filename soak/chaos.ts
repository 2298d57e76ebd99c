/**
 * The chaos soak: four clients (see clients.ts) call a tool without pause through the
 * emulated Cloud Run front while the schedule (see schedule.ts) rotates, revokes, breaks and
 * restarts everything a token or a session depends on. It measures what the issue's goals
 * are about: failed calls and their causes, token requests against the least possible and
 * against the budget, MCP sessions against one per client plus one per forced loss, heap
 * growth, latency and process warnings.
 */
import v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
import type {EmulatorEndpoint} from '../src/emulator/index.js';
import {scrubSecrets} from '../src/tokens/sources/redact.js';
import {httpProxyClient, sdkClient, stdioProxyClient, toolsetClient} from './clients.js';
import type {SoakClient} from './clients.js';
import {BurstTracker, SOAK_EVENTS} from './schedule.js';
import {startSoakStack} from './stack.js';

/** Options of {@link runChaosSoak}. */
export interface ChaosSoakOptions {
  /** How long the load runs, in milliseconds. Default is 300000 (5 minutes). */
  durationMs?: number;
  /** Lifetime of every token the emulator issues, in seconds (rotation: every half of it). Default is 8. */
  tokenLifetimeSeconds?: number;
  /** Concurrent callers per client. Default is 2. */
  workers?: number;
  /** Time between two injected events, in milliseconds. Default is 4000. */
  eventEveryMs?: number;
  /** When the heap is measured the second time, in milliseconds from the start of the load. Default is 60000, or a third of the run when shorter. */
  heapMarkMs?: number;
  /** Largest heap growth allowed from the mark to the end, in MiB. Default is 10. */
  heapGrowthLimitMiB?: number;
  /** Events not to inject, by the start of their name (diagnostics). Default is none. */
  skip?: readonly string[];
  /** Progress lines (every few seconds). Default drops them. */
  progress?: (line: string) => void;
}

/** What one client did. */
export interface ClientReport {
  name: string;
  calls: number;
  failures: number;
  /** Failure causes with their counts. */
  causes: Record<string, number>;
  /** MCP sessions it opened, when it can tell. */
  sessions: number | undefined;
  /** Calls its driver ran again on a new session (raw SDK client). */
  reconnects: number;
  p50Ms: number;
  p99Ms: number;
}

/** One goal of the issue and whether this run met it. */
export interface Goal {
  name: string;
  ok: boolean;
  detail: string;
}

/** Everything a chaos soak measured. */
export interface ChaosSoakReport {
  durationMs: number;
  tokenLifetimeSeconds: number;
  clients: ClientReport[];
  events: {name: string; count: number; skipped: number}[];
  tokenRequests: {
    total: number;
    byEndpoint: Partial<Record<EmulatorEndpoint, number>>;
    /** One request per token lifetime per token a client needs: the floor without faults. */
    minimum: number;
    /** Refreshes at half-life, the least the cache's refresh-ahead makes. */
    rotations: number;
    /** Faulted answers queued on token endpoints, plus one refetch per client per revocation. */
    injectedFaults: number;
    /** rotations + injected faults + 2 per client. */
    budget: number;
  };
  sessions: {observed: number; expected: number; losses: number};
  /** What the front refused: revoked tokens, and invalid ones by verifier code. */
  front: {revoked: number; rejections: Record<string, number>; upstreamErrors: number};
  heapMiB: {start: number; mark: number; end: number; markAtMs: number};
  warnings: string[];
  goals: Goal[];
}

/** The endpoints a client's token comes from; everything else (JWKS, detection) is not a token request. */
const TOKEN_ENDPOINTS: readonly EmulatorEndpoint[] = [
  'token',
  'sts',
  'iam.generateIdToken',
  'iam.generateAccessToken',
  'metadata.identity',
  'metadata.token',
];

/**
 * Token requests per rotation of all four clients: the toolset 1 (metadata), the SDK client
 * 2 (its caller's access token, then IAM), the stdio proxy 1 (token endpoint), the HTTP
 * proxy 2 (STS, then IAM).
 */
const REQUESTS_PER_ROTATION = 6;
const WARMUP_CALLS = 20;

/** A `gc` to measure a settled heap: the flag's, or one exposed at run time. */
function collector(): () => void {
  const exposed = (globalThis as {gc?: () => void}).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapMiB(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function cause(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return scrubSecrets(text.replace(/\s+/g, ' '), 160);
}

function countTokenRequests(stack: {
  emulator: {requests: {byEndpoint: Record<EmulatorEndpoint, number>}};
}) {
  const byEndpoint: Partial<Record<EmulatorEndpoint, number>> = {};
  let total = 0;
  for (const endpoint of TOKEN_ENDPOINTS) {
    const n = stack.emulator.requests.byEndpoint[endpoint];
    byEndpoint[endpoint] = n;
    total += n;
  }
  return {total, byEndpoint};
}

/** Runs the chaos soak and reports; never throws for a missed goal (see `goals`). */
export async function runChaosSoak(options: ChaosSoakOptions = {}): Promise<ChaosSoakReport> {
  const durationMs = options.durationMs ?? 300_000;
  const lifetime = options.tokenLifetimeSeconds ?? 8;
  const workers = options.workers ?? 2;
  const eventEveryMs = options.eventEveryMs ?? 4_000;
  const markAtMs = options.heapMarkMs ?? Math.min(60_000, Math.round(durationMs / 3));
  const heapLimit = options.heapGrowthLimitMiB ?? 10;
  const progress = options.progress ?? (() => undefined);
  const gc = collector();
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if ((warning as {code?: string}).code === 'MCP_GOOGLE_AUTH_EMULATOR') return;
    warnings.push(`${warning.name}: ${warning.message}`.slice(0, 200));
  };
  process.on('warning', onWarning);

  const stack = await startSoakStack(lifetime);
  const clients: SoakClient[] = [];
  try {
    progress(`Starting 4 clients against ${stack.mcpUrl} (tokens live ${lifetime} s)...`);
    clients.push(
      ...(await Promise.all([
        toolsetClient(stack),
        sdkClient(stack),
        stdioProxyClient(stack),
        httpProxyClient(stack),
      ])),
    );
    for (const client of clients) {
      for (let a = 0; a < WARMUP_CALLS; a++) await client.call(a);
    }
    // Token requests from here on: the clients hold their first tokens (one rotation).
    const tokensAtStartByEndpoint = countTokenRequests(stack).byEndpoint;
    const tokensAtStart = countTokenRequests(stack).total;
    const heapStart = heapMiB(gc);

    const stats = clients.map(() => ({
      latencies: [] as number[],
      failures: 0,
      causes: {} as Record<string, number>,
    }));
    const started = performance.now();
    const deadline = started + durationMs;
    let stop = false;
    const worker = async (index: number, offset: number) => {
      const client = clients[index]!;
      const stat = stats[index]!;
      for (let a = offset; !stop; a += workers) {
        const t0 = performance.now();
        try {
          await client.call(a);
          stat.latencies.push(performance.now() - t0);
        } catch (error) {
          stat.failures++;
          const key = cause(error);
          stat.causes[key] = (stat.causes[key] ?? 0) + 1;
        }
      }
    };
    const load = clients.flatMap((_, index) =>
      Array.from({length: workers}, (__, w) => worker(index, w)),
    );

    const bursts = new BurstTracker(stack);
    const skip = options.skip ?? [];
    const events = SOAK_EVENTS.filter(
      (event) => !skip.some((prefix) => event.name.startsWith(prefix)),
    );
    const eventCounts = events.map((event) => ({name: event.name, count: 0, skipped: 0}));
    let tokenFaults = 0;
    let revocations = 0;
    let losses = 0;
    let heapMark = Number.NaN;
    let next = 0;
    let lastProgress = started;
    const calls = () => stats.reduce((sum, s) => sum + s.latencies.length + s.failures, 0);
    const failed = () => stats.reduce((sum, s) => sum + s.failures, 0);
    while (performance.now() < deadline) {
      const now = performance.now();
      if (Number.isNaN(heapMark) && now - started >= markAtMs) heapMark = heapMiB(gc);
      // No event in the last stretch: what it breaks gets the time to mend.
      if (now - started >= (next + 1) * eventEveryMs && deadline - now > eventEveryMs) {
        const index = next % events.length;
        const event = events[index]!;
        const effect = await event.apply(stack, bursts);
        next++;
        eventCounts[index]!.count++;
        if (effect.skipped) eventCounts[index]!.skipped++;
        tokenFaults += effect.tokenFaults;
        if (effect.revoked) revocations++;
        if (effect.sessionLoss) losses++;
        progress(
          `  ${((now - started) / 1000).toFixed(0).padStart(4)} s  ${event.name}${effect.skipped ? ` (skipped: ${effect.skipped})` : ''}`,
        );
      }
      if (now - lastProgress >= 5_000) {
        lastProgress = now;
        progress(
          `  ${((now - started) / 1000).toFixed(0).padStart(4)} s  ${calls().toLocaleString('en-US')} calls, ${failed()} failed, ${countTokenRequests(stack).total - tokensAtStart} token requests, heap ${heapMiB(gc).toFixed(1)} MiB`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stop = true;
    await Promise.all(load);
    const elapsedMs = performance.now() - started;
    stack.emulator.clearFaults();
    if (Number.isNaN(heapMark)) heapMark = heapMiB(gc);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const heapEnd = heapMiB(gc);

    const requests = countTokenRequests(stack);
    const tokenRequests = requests.total - tokensAtStart;
    const perToken = Math.max(1, (lifetime - 1) / 2);
    const rotations = REQUESTS_PER_ROTATION * Math.floor(elapsedMs / 1000 / perToken);
    const injectedFaults = tokenFaults + revocations * clients.length;
    const budget = rotations + injectedFaults + 2 * clients.length;
    const minimum = REQUESTS_PER_ROTATION * Math.ceil(elapsedMs / 1000 / lifetime);
    const observedSessions = stack.demo.stats.sessions;
    const expectedSessions = clients.length * (1 + losses);

    const clientReports: ClientReport[] = clients.map((client, index) => {
      const stat = stats[index]!;
      const sorted = [...stat.latencies].sort((a, b) => a - b);
      return {
        name: client.name,
        calls: stat.latencies.length + stat.failures,
        failures: stat.failures,
        causes: stat.causes,
        sessions: client.sessions(),
        reconnects: client.reconnects,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    });
    const totalFailures = clientReports.reduce((sum, c) => sum + c.failures, 0);
    const growth = heapEnd - heapMark;
    const goals: Goal[] = [
      {
        name: '0 failed calls',
        ok: totalFailures === 0,
        detail: `${totalFailures} of ${calls().toLocaleString('en-US')}`,
      },
      {
        name: 'token requests <= rotations + injected faults + 2 per client',
        ok: tokenRequests <= budget,
        detail: `${tokenRequests} <= ${rotations} + ${injectedFaults} + ${2 * clients.length} = ${budget}`,
      },
      {
        name: 'one MCP session per client, plus one per forced loss',
        ok: observedSessions === expectedSessions,
        detail: `${observedSessions} sessions, expected ${clients.length} x (1 + ${losses})`,
      },
      {
        name: `heap growth <= ${heapLimit} MiB from ${(markAtMs / 1000).toFixed(0)} s to the end`,
        ok: growth <= heapLimit,
        detail: `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB`,
      },
      {
        name: 'no process warning',
        ok: warnings.length === 0,
        detail: warnings.length === 0 ? 'none' : warnings.join(' | '),
      },
    ];
    if (totalFailures > 0) {
      for (const client of clients) {
        const lines = client.stderr();
        if (lines.length > 0) progress(`  stderr of ${client.name}:\n    ${lines.join('\n    ')}`);
      }
    }
    return {
      durationMs: elapsedMs,
      tokenLifetimeSeconds: lifetime,
      clients: clientReports,
      events: eventCounts,
      tokenRequests: {
        total: tokenRequests,
        byEndpoint: Object.fromEntries(
          TOKEN_ENDPOINTS.map((e) => [
            e,
            (requests.byEndpoint[e] ?? 0) - (tokensAtStartByEndpoint[e] ?? 0),
          ]),
        ),
        minimum,
        rotations,
        injectedFaults,
        budget,
      },
      sessions: {observed: observedSessions, expected: expectedSessions, losses},
      front: {
        revoked: stack.front.stats.revoked,
        rejections: {...stack.front.stats.rejections} as Record<string, number>,
        upstreamErrors: stack.front.stats.upstreamErrors,
      },
      heapMiB: {start: heapStart, mark: heapMark, end: heapEnd, markAtMs},
      warnings,
      goals,
    };
  } finally {
    process.off('warning', onWarning);
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await stack.close();
  }
}
