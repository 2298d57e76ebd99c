/**
 * `npm run soak`: the chaos soak (default 5 minutes; `--duration 90s`, `--duration 10m`),
 * or with `--leak` the leak soak (100,000 calls; `--calls N`). Prints progress on stderr
 * and the table on stdout (`--json` for the raw report). Exits 1 when a goal is missed.
 */
import {runChaosSoak} from './chaos.js';
import {formatChaosReport} from './report.js';
import {formatLeakReport, runLeakSoak} from './leak.js';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** `90s`, `5m`, `300000` (ms) as milliseconds. */
function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match)
    throw new TypeError(`--duration must look like 20s, 5m or 300000, got ${JSON.stringify(text)}`);
  const value = Number(match[1]);
  const unit = match[2] ?? 'ms';
  return unit === 'm' ? value * 60_000 : unit === 's' ? value * 1000 : value;
}

function positive(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  if (process.argv.includes('--leak')) {
    const report = await runLeakSoak({calls: positive('calls', 100_000), progress});
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatLeakReport(report));
    return report.goals.every((goal) => goal.ok) ? 0 : 1;
  }
  const text = option('duration');
  const report = await runChaosSoak({
    durationMs: text === undefined ? 300_000 : duration(text),
    tokenLifetimeSeconds: positive('token-lifetime', 8),
    workers: positive('workers', 2),
    ...(option('skip') ? {skip: option('skip')!.split(',')} : {}),
    progress,
  });
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatChaosReport(report));
  return report.goals.every((goal) => goal.ok) ? 0 : 1;
}

process.exitCode = await main();
