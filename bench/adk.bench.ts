/**
 * MCP tool calls from `@google/adk` tools, through the emulated Cloud Run front (ID token
 * checked on every request) to the demo MCP server, all in this process, side by side:
 * - the anchor: a plain MCP SDK `Client` over `StreamableHTTPClientTransport` with
 *   `googleAuthFetch`, one session (ended with `terminateSession()` before `close()`);
 * - `AdkMcpToolset`: its ADK tool's `runAsync({args, toolContext})`;
 * - `@google/adk`'s own `MCPToolset` with `adkMcpConnectionParams`: its `MCPTool.runAsync`,
 *   which opens a new MCP session for every call and closes it without ending it on the
 *   server (fewer calls: each one leaves a session open on the demo server).
 * Two phases, each against its own anchor client: `AdkMcpToolset` first, then ADK's toolset
 * (whose sessions, left open, would otherwise weigh on the first comparison). In a phase the
 * two run in blocks that take turns in random order every round, so that drift lands on both
 * alike; each round gives a ratio against the anchor's block of the same round, reported as
 * their median and quartiles (a busy machine moves single rounds a lot; the mean over all
 * rounds is `vs anchor`). Each variant has its own token cache. CPU is the whole process
 * (client, front, server and emulator all run in it), per call. Goals from the issue:
 * `AdkMcpToolset` within 1.15x of the anchor per call, 1 MCP session for 1,000 calls, 0
 * sessions left open after `close()`.
 */
import {MCPToolset, setLogger} from '@google/adk';
import type {BaseTool, Context, Logger} from '@google/adk';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {adkMcpConnectionParams} from '../src/adk/adk-mcp-connection-params.js';
import {AdkMcpToolset} from '../src/adk/adk-mcp-toolset.js';
import {parseAuthCredential} from '../src/credentials/parse.js';
import {startCloudRunGateway, startDemoMcpServer} from '../src/emulator/index.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {googleAuthFetch} from '../src/http/google-auth-fetch.js';
import {TokenCache} from '../src/tokens/token-cache.js';
import {percentile} from './table.js';
import type {BenchRow} from './table.js';

/** Rounds per phase. */
const ROUNDS = 20;

/** One way of calling `add`, with what it cost. */
interface Contender {
  readonly label: string;
  /** Calls per block. */
  readonly calls: number;
  readonly cache: TokenCache;
  /** Connects (and lists the tools); returns the call. */
  open(): Promise<() => Promise<unknown>>;
  close(): Promise<void>;
}

interface Tally {
  /** Sessions opened before measuring (connecting, getTools, warm-up). */
  setupSessions: number;
  /** Sessions opened while measuring. */
  sessions: number;
  calls: number;
  ms: number;
  cpuMicros: number;
  /** Per round: this contender's mean over the anchor's mean. */
  ratios: number[];
  leftOpen: number;
}

/** ADK's logger, counting the lines at ERROR (its default logger prints them in red). */
function countingLogger(counter: {errors: number}): Logger {
  return {
    log: (level) => {
      if (level >= 3) counter.errors++;
    },
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => {
      counter.errors++;
    },
    setLogLevel: () => undefined,
  };
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function addTool(tools: BaseTool[]): BaseTool {
  const tool = tools.find((candidate) => candidate.name === 'add');
  if (!tool) throw new Error('the demo server has no add tool');
  return tool;
}

/**
 * Runs the two phases against `emulator` (which mints the tokens) with a demo MCP server and
 * a Cloud Run front of its own; returns one row per contender (see {@link ADK_COLUMNS}).
 */
export async function runAdkBench(emulator: GoogleEmulator): Promise<BenchRow[]> {
  const key = await emulator.createServiceAccountKey(
    'bench-adk@emulator-project.iam.gserviceaccount.com',
  );
  const authCredential = parseAuthCredential(
    {
      authType: 'serviceAccount',
      serviceAccount: {serviceAccountCredential: key.json, useIdToken: true},
    },
    {requireAudience: false},
  );
  const tokenSourceOptions = {emulatorHost: emulator.host};
  const demo = await startDemoMcpServer();
  const front = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emulator.jwksUrl});
  const url = `${front.url}/mcp`;
  const args = {a: 20, b: 22};
  const toolContext = {} as Context; // ADK's MCPTool reads only its abortSignal (none here)
  const logged = {errors: 0};
  setLogger(countingLogger(logged));

  const anchor = (label: string, calls: number): Contender => {
    const cache = new TokenCache();
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      fetch: googleAuthFetch({authCredential, targetUrl: url, cache, tokenSourceOptions}),
    });
    const client = new Client({name: 'adk-bench', version: '1.0.0'});
    return {
      label,
      calls,
      cache,
      async open() {
        await client.connect(transport);
        return () => client.callTool({name: 'add', arguments: args});
      },
      async close() {
        await transport.terminateSession();
        await client.close();
      },
    };
  };
  const ours = (): Contender => {
    const cache = new TokenCache();
    const toolset = new AdkMcpToolset({
      connectionParams: {type: 'StreamableHTTPConnectionParams', url},
      authCredential,
      cache,
      tokenSourceOptions,
    });
    return {
      label: 'AdkMcpToolset tool.runAsync',
      calls: 50,
      cache,
      async open() {
        const add = addTool(await toolset.getTools());
        return () => add.runAsync({args, toolContext});
      },
      close: () => toolset.close(),
    };
  };
  const adks = (): Contender => {
    const cache = new TokenCache();
    const toolset = new MCPToolset(
      adkMcpConnectionParams({url, authCredential, cache, tokenSourceOptions}),
    );
    return {
      label: '@google/adk MCPToolset + adkMcpConnectionParams',
      calls: 10,
      cache,
      async open() {
        const add = addTool(await toolset.getTools());
        return () => add.runAsync({args, toolContext});
      },
      close: () => toolset.close(),
    };
  };

  /** One phase: `base` (the anchor) and `other`, interleaved; returns their tallies. */
  const phase = async (base: Contender, other: Contender): Promise<[Tally, Tally]> => {
    const contenders = [base, other];
    const tallies = contenders.map((): Tally => ({
      setupSessions: 0,
      sessions: 0,
      calls: 0,
      ms: 0,
      cpuMicros: 0,
      ratios: [],
      leftOpen: 0,
    }));
    const calls: Array<() => Promise<unknown>> = [];
    for (const [index, contender] of contenders.entries()) {
      const before = demo.stats.sessions;
      const call = await contender.open();
      for (let i = 0; i < contender.calls; i++) await call(); // warm-up, not measured
      tallies[index]!.setupSessions = demo.stats.sessions - before;
      calls.push(call);
    }
    const gc = (globalThis as {gc?: () => void}).gc;
    for (let round = 0; round < ROUNDS; round++) {
      const means: number[] = [];
      for (const index of shuffled([0, 1])) {
        const contender = contenders[index]!;
        const tally = tallies[index]!;
        const call = calls[index]!;
        gc?.();
        const sessionsBefore = demo.stats.sessions;
        const cpu = process.cpuUsage();
        const start = performance.now();
        for (let i = 0; i < contender.calls; i++) await call();
        const ms = performance.now() - start;
        const used = process.cpuUsage(cpu);
        tally.calls += contender.calls;
        tally.ms += ms;
        tally.cpuMicros += used.user + used.system;
        tally.sessions += demo.stats.sessions - sessionsBefore;
        means[index] = ms / contender.calls;
      }
      for (const [index, tally] of tallies.entries()) tally.ratios.push(means[index]! / means[0]!);
    }
    for (const [index, contender] of contenders.entries()) {
      const tally = tallies[index]!;
      const before = demo.stats.activeSessions;
      await contender.close();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server ends sessions on DELETE
      tally.leftOpen = tally.setupSessions + tally.sessions - (before - demo.stats.activeSessions);
    }
    return tallies as [Tally, Tally];
  };

  const row = (contender: Contender, tally: Tally, anchorTally: Tally, errorLines?: number) => {
    const mean = (tally.ms * 1000) / tally.calls;
    const cpu = tally.cpuMicros / tally.calls;
    const ratios = [...tally.ratios].sort((a, b) => a - b);
    const at = (p: number) => percentile(ratios, p).toFixed(2);
    return {
      group: 'adk',
      scenario: contender.label,
      calls: tally.calls,
      'µs/call': mean,
      'vs anchor': mean / ((anchorTally.ms * 1000) / anchorTally.calls),
      'per-round ratio: median (p25–p75)': `${at(50)} (${at(25)}–${at(75)})`,
      'CPU µs/call': cpu,
      'CPU vs anchor': cpu / (anchorTally.cpuMicros / anchorTally.calls),
      'MCP sessions': tally.setupSessions + tally.sessions,
      'new sessions while measuring': tally.sessions,
      'left open after close()': tally.leftOpen,
      'token requests': contender.cache.stats().fetches,
      'ADK error lines': errorLines,
    };
  };

  try {
    const firstAnchor = anchor('MCP SDK Client + googleAuthFetch (anchor)', 50);
    const ourContender = ours();
    const [anchorA, oursTally] = await phase(firstAnchor, ourContender);
    const oursErrors = logged.errors; // nothing else of ADK's ran yet
    const secondAnchor = anchor('MCP SDK Client + googleAuthFetch (anchor of the next row)', 10);
    const adkContender = adks();
    const [anchorB, adkTally] = await phase(secondAnchor, adkContender);
    await new Promise((resolve) => setTimeout(resolve, 100)); // ADK logs after its closes settle
    return [
      row(firstAnchor, anchorA, anchorA),
      row(ourContender, oursTally, anchorA, oursErrors),
      row(secondAnchor, anchorB, anchorB),
      row(adkContender, adkTally, anchorB, logged.errors - oursErrors),
    ];
  } finally {
    setLogger(null);
    await front.close();
    await demo.close();
  }
}

/**
 * Columns of {@link runAdkBench}'s rows: calls measured, mean µs per call and its ratio to
 * the phase's anchor, the median and quartiles of the per-round ratios, CPU per call (whole process)
 * and its ratio, MCP sessions opened in all (connecting, `getTools` and warm-up included)
 * and while measuring, sessions still open on the server after `close()`, token requests,
 * and lines ADK logged at ERROR during the phase.
 */
export const ADK_COLUMNS = [
  'calls',
  'µs/call',
  'vs anchor',
  'per-round ratio: median (p25–p75)',
  'CPU µs/call',
  'CPU vs anchor',
  'MCP sessions',
  'new sessions while measuring',
  'left open after close()',
  'token requests',
  'ADK error lines',
];
