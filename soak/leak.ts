/**
 * The leak soak: 100,000 tool calls on one `McpToolset`, then on one MCP SDK client with
 * `googleAuthFetch`, straight to the demo MCP server on loopback, as fast as a few callers
 * can go. It watches every abort signal that gets an abort listener in this process (the
 * sessions' long-lived ones among them): a signal alive for more than a tenth of the run is
 * long-lived, and its listener count must stay flat. It samples the settled heap along the
 * way, and listens for process warnings.
 */
import {getEventListeners} from 'node:events';
import v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {startDemoMcpServer, startGoogleEmulator} from '../src/emulator/index.js';
import {googleAuthFetch} from '../src/http/google-auth-fetch.js';
import {McpToolset} from '../src/mcp/mcp-toolset.js';
import type {McpTool} from '../src/mcp/mcp-tool.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import type {Goal} from './chaos.js';

/** Options of {@link runLeakSoak}. */
export interface LeakSoakOptions {
  /** Tool calls per client. Default is 100000. */
  calls?: number;
  /** Concurrent callers per client. Default is 4. */
  concurrency?: number;
  /** Largest settled-heap growth allowed from the second sample to the end, in MiB. Default is 4. */
  heapGrowthLimitMiB?: number;
  /** Progress lines. Default drops them. */
  progress?: (line: string) => void;
}

/** What one client's run showed. */
export interface LeakClientReport {
  name: string;
  calls: number;
  seconds: number;
  /** Abort listeners added to long-lived signals, per tenth of the run (a leak adds one per call). */
  listenersAdded: number[];
  /** Most abort listeners seen on a long-lived signal as it got another one, per tenth of the run. */
  listenerPeaks: number[];
  /** Abort listeners on the session's own signal, per tenth (when the driver can see it). */
  sessionSignalListeners: number[];
  /** Long-lived signals that got a listener in the last tenth. */
  longLivedSignals: number;
  /** Settled heap, MiB, per sample. */
  heapMiB: number[];
}

/** Everything the leak soak measured. */
export interface LeakSoakReport {
  clients: LeakClientReport[];
  warnings: string[];
  goals: Goal[];
}

/**
 * Watches every signal that gets an abort listener, until `stop`: each time one gets a
 * listener, its count is read, and the highest count on a signal older than `minAge` calls
 * is kept until the next sample. Signals are held weakly: watching keeps nothing alive.
 */
function watchSignals(currentCall: () => number, minAge: number) {
  const born = new WeakMap<AbortSignal, number>();
  let peak = 0;
  let added = 0;
  let longLived = new WeakSet<AbortSignal>();
  let longLivedCount = 0;
  const original = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'addEventListener');
  const add = EventTarget.prototype.addEventListener;
  Object.defineProperty(AbortSignal.prototype, 'addEventListener', {
    configurable: true,
    writable: true,
    value: function (this: AbortSignal, ...args: Parameters<EventTarget['addEventListener']>) {
      const result = add.apply(this, args);
      if (args[0] === 'abort') {
        const now = currentCall();
        const at = born.get(this);
        if (at === undefined) born.set(this, now);
        else if (now - at >= minAge) {
          added++;
          peak = Math.max(peak, getEventListeners(this, 'abort').length);
          if (!longLived.has(this)) {
            longLived.add(this);
            longLivedCount++;
          }
        }
      }
      return result;
    },
  });
  return {
    /**
     * Since the last sample: listeners added to long-lived signals, the most listeners such a
     * signal had when it got one, and how many such signals got one.
     */
    sample(): {added: number; peak: number; longLived: number} {
      const result = {added, peak, longLived: longLivedCount};
      added = 0;
      peak = 0;
      longLived = new WeakSet();
      longLivedCount = 0;
      return result;
    },
    stop() {
      if (original) Object.defineProperty(AbortSignal.prototype, 'addEventListener', original);
      else delete (AbortSignal.prototype as {addEventListener?: unknown}).addEventListener;
    },
  };
}

function collector(): () => void {
  const exposed = (globalThis as {gc?: () => void}).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Runs the leak soak. */
export async function runLeakSoak(options: LeakSoakOptions = {}): Promise<LeakSoakReport> {
  const calls = options.calls ?? 100_000;
  const concurrency = options.concurrency ?? 4;
  const limit = options.heapGrowthLimitMiB ?? 4;
  const progress = options.progress ?? (() => undefined);
  const gc = collector();
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1024 / 1024;
  };
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if ((warning as {code?: string}).code === 'MCP_GOOGLE_AUTH_EMULATOR') return;
    warnings.push(`${warning.name}: ${warning.message}`.slice(0, 200));
  };
  process.on('warning', onWarning);
  const emulator = await startGoogleEmulator();
  const demo = await startDemoMcpServer();
  const key = await emulator.createServiceAccountKey();
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
  const tokenSourceOptions = {emulatorHost: emulator.host};
  const reports: LeakClientReport[] = [];
  try {
    const run = async (
      name: string,
      call: (a: number) => Promise<unknown>,
      sessionSignal?: () => AbortSignal | undefined,
    ) => {
      let done = 0;
      const minAge = Math.max(100, Math.floor(calls / 10));
      const watch = watchSignals(() => done, minAge);
      const listenerPeaks: number[] = [];
      const listenersAdded: number[] = [];
      const sessionSignalListeners: number[] = [];
      const heapMiB: number[] = [];
      let longLived = 0;
      const started = performance.now();
      try {
        for (let i = 0; i < 200; i++) await call(i);
        let next = 0;
        let sampleAt = Math.floor(calls / 10);
        const worker = async () => {
          while (next < calls) {
            const a = next++;
            await call(a);
            done++;
          }
        };
        const sampler = (async () => {
          while (done < calls) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            if (done >= sampleAt) {
              const {added, peak, longLived: live} = watch.sample();
              listenerPeaks.push(peak);
              listenersAdded.push(added);
              const session = sessionSignal?.();
              if (session) sessionSignalListeners.push(getEventListeners(session, 'abort').length);
              longLived = live;
              heapMiB.push(heap());
              progress(
                `  ${name}: ${done.toLocaleString('en-US')} calls, ${added} listeners added to long-lived signals (at most ${peak} on one), heap ${heapMiB.at(-1)!.toFixed(1)} MiB`,
              );
              sampleAt += Math.floor(calls / 10);
            }
          }
        })();
        await Promise.all(Array.from({length: concurrency}, worker));
        await sampler;
      } finally {
        watch.stop();
      }
      reports.push({
        name,
        calls,
        seconds: (performance.now() - started) / 1000,
        listenersAdded,
        listenerPeaks,
        sessionSignalListeners,
        longLivedSignals: longLived,
        heapMiB,
      });
    };

    progress(`McpToolset: ${calls.toLocaleString('en-US')} calls...`);
    const toolset = new McpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url: demo.url},
      authCredential,
      cache: new TokenCache(),
      tokenSourceOptions,
    });
    const add = (await toolset.getTools()).find((tool) => tool.name === 'add') as McpTool;
    await run('McpToolset', (a) => add.runAsync({a, b: 1}));
    await toolset.close();

    progress(`MCP SDK client with googleAuthFetch: ${calls.toLocaleString('en-US')} calls...`);
    const client = new Client({name: 'leak-soak', version: '1.0.0'});
    const authFetch = googleAuthFetch({
      authCredential,
      cache: new TokenCache(),
      tokenSourceOptions,
    });
    let sessionSignal: AbortSignal | undefined;
    const transport = new StreamableHTTPClientTransport(new URL(demo.url), {
      fetch: (input, init) => {
        sessionSignal ??= init?.signal ?? undefined;
        return authFetch(input, init);
      },
    });
    await client.connect(transport);
    await run(
      'MCP SDK client + googleAuthFetch',
      (a) => client.callTool({name: 'add', arguments: {a, b: 1}}),
      () => sessionSignal,
    );
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  } finally {
    process.off('warning', onWarning);
    await demo.close();
    await emulator.close();
  }
  const goals: Goal[] = reports.flatMap((report) => {
    const peak = Math.max(...report.listenerPeaks);
    // A leak raises the floor: the lowest settled heap of the second half against the lowest
    // of the second to fifth tenths (the first includes warm-up; single samples jitter).
    const floor = (from: number, to: number) => Math.min(...report.heapMiB.slice(from, to));
    const growth = floor(5, 10) - floor(1, 5);
    const added = Math.max(...report.listenersAdded);
    const session = report.sessionSignalListeners;
    return [
      {
        name: `${report.name}: listeners on every long-lived signal flat`,
        // A leak adds one per call (a tenth of the run is thousands); in flight at most the
        // session's stream and one per caller.
        ok: added <= concurrency + 2 && peak <= concurrency + 2 && new Set(session).size <= 1,
        detail: `listeners added to long-lived signals per tenth: ${report.listenersAdded.join(', ')}; at most ${peak} on one${session.length > 0 ? `; on the session's signal per tenth: ${session.join(', ')}` : ''}`,
      },
      {
        name: `${report.name}: heap flat (<= ${limit} MiB, lowest of the second half against lowest of tenths 2-5)`,
        ok: growth <= limit,
        detail: `${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MiB`,
      },
    ];
  });
  goals.push({
    name: 'no process warning',
    ok: warnings.length === 0,
    detail: warnings.length === 0 ? 'none' : warnings.join(' | '),
  });
  return {clients: reports, warnings, goals};
}

/** The leak report as text. */
export function formatLeakReport(report: LeakSoakReport): string {
  const lines = ['\nLeak soak: tool calls on one client each, loopback, no faults\n'];
  for (const c of report.clients) {
    lines.push(
      `${c.name}: ${c.calls.toLocaleString('en-US')} calls in ${c.seconds.toFixed(1)} s (${Math.round(c.calls / c.seconds).toLocaleString('en-US')}/s)`,
      `  abort listeners added to long-lived signals, per tenth of the run: ${c.listenersAdded.join(', ')} (at most ${Math.max(...c.listenerPeaks)} on one signal)`,
      ...(c.sessionSignalListeners.length > 0
        ? [
            `  abort listeners on the session's signal, per tenth: ${c.sessionSignalListeners.join(', ')}`,
          ]
        : []),
      `  settled heap, MiB, per tenth: ${c.heapMiB.map((m) => m.toFixed(1)).join(', ')}`,
    );
  }
  lines.push(
    `\nGoals:\n${report.goals.map((g) => `  ${g.ok ? 'PASS' : 'FAIL'}  ${g.name}: ${g.detail}`).join('\n')}\n`,
  );
  return lines.join('\n');
}
