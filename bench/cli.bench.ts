/**
 * CLI start-up: how long the built command takes to answer `--help` (and each subcommand's
 * `--help`) against `--version`, the cheapest thing it does, measured side by side in the
 * same run. Each figure is the wall time of a child process from spawn to exit; scenarios
 * are interleaved within each round so that machine noise falls on all of them alike, and
 * the ratio is taken per round (median of that round's runs), then summarised over rounds
 * with its spread. `node -e 0` is the floor no command can beat. Nothing is asserted.
 *
 * Run alone: `npm run build && node --import tsx bench/cli.bench.ts`; with
 * `CLI_BENCH_BIN=/path/to/other/dist/cli/main.js`, the same table for another build.
 */
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {type BenchRow, percentile, printTable} from './table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The built command; `CLI_BENCH_BIN` points at another build (e.g. main's) to compare. */
const CLI = process.env.CLI_BENCH_BIN ?? join(ROOT, 'dist/cli/main.js');

/** One measured invocation. */
interface Scenario {
  name: string;
  args: string[];
}

const ANCHOR = '--version';

const SCENARIOS: Scenario[] = [
  {name: 'node -e 0 (floor)', args: ['-e', '0']},
  {name: ANCHOR, args: [CLI, '--version']},
  {name: '--help', args: [CLI, '--help']},
  {name: 'token --help', args: [CLI, 'token', '--help']},
  {name: 'tools --help', args: [CLI, 'tools', '--help']},
  {name: 'doctor --help', args: [CLI, 'doctor', '--help']},
  {name: 'proxy --help', args: [CLI, 'proxy', '--help']},
];

/** Options of {@link runCliBench}. */
export interface CliBenchOptions {
  /** Rounds; the spread is over them. Default is 5. */
  rounds?: number;
  /** Runs of each scenario per round (interleaved). Default is 8. */
  runsPerRound?: number;
}

/** Columns of the table {@link runCliBench} returns. */
export const CLI_COLUMNS = ['median ms', 'vs --version', 'spread over rounds'];

function timeOnce(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, {stdio: 'ignore', env: {...process.env}});
  const elapsed = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return elapsed;
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/**
 * Spawns every scenario `runsPerRound` times per round, interleaved, and returns one row per
 * scenario: its median time, its ratio to `--version` (median over rounds of the per-round
 * ratio) and the lowest and highest per-round ratio.
 */
export function runCliBench(options: CliBenchOptions = {}): BenchRow[] {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const rounds = options.rounds ?? 5;
  const runs = options.runsPerRound ?? 8;
  for (const scenario of SCENARIOS) timeOnce(scenario.args); // warm the file cache
  const perRound = new Map<string, number[]>(SCENARIOS.map((s) => [s.name, []]));
  const all = new Map<string, number[]>(SCENARIOS.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    const times = new Map<string, number[]>(SCENARIOS.map((s) => [s.name, []]));
    for (let run = 0; run < runs; run++) {
      // Rotate the order each run so that no scenario always follows another.
      for (let i = 0; i < SCENARIOS.length; i++) {
        const scenario = SCENARIOS[(i + run) % SCENARIOS.length] as Scenario;
        const ms = timeOnce(scenario.args);
        times.get(scenario.name)?.push(ms);
        all.get(scenario.name)?.push(ms);
      }
    }
    const anchor = median(times.get(ANCHOR) ?? []);
    for (const scenario of SCENARIOS) {
      perRound.get(scenario.name)?.push(median(times.get(scenario.name) ?? []) / anchor);
    }
  }
  return SCENARIOS.map((scenario) => {
    const ratios = perRound.get(scenario.name) ?? [];
    return {
      group: 'cli',
      scenario: scenario.name,
      'median ms': median(all.get(scenario.name) ?? []),
      'vs --version': `${median(ratios).toFixed(2)}x`,
      'spread over rounds': `${Math.min(...ratios).toFixed(2)}x-${Math.max(...ratios).toFixed(2)}x`,
    };
  });
}

/** The table's title. */
export function cliBenchTitle(options: CliBenchOptions = {}): string {
  return `CLI start-up: wall time of a child process, ${options.rounds ?? 5} rounds of ${options.runsPerRound ?? 8} interleaved runs (ratios against --version in the same round)`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  printTable(cliBenchTitle(), runCliBench(), CLI_COLUMNS);
}
