/** One row of a benchmark table. `ratio` compares against the anchor measured in the same run. */
export interface BenchRow {
  group: string;
  scenario: string;
  [column: string]: string | number | undefined;
}

/** Prints rows as an aligned plain-text table, one block per group. */
export function printTable(title: string, rows: BenchRow[], columns: string[]): void {
  const header = ['scenario', ...columns];
  const cells = rows.map((row) => [row.scenario, ...columns.map((c) => format(row[c]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    `\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`,
  );
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

function format(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** Percentile of sorted numbers (p in 0..100). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Runs `total` calls of `fn` with `concurrency` workers; returns each call's latency in ms. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  fn: () => Promise<unknown>,
): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const start = performance.now();
      await fn();
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({length: concurrency}, worker));
  return latencies.sort((a, b) => a - b);
}

/** Mean microseconds per call of `fn` over `iterations` sequential calls (after a warm-up). */
export async function microsPerCall(
  iterations: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < Math.min(1000, iterations); i++) await fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return ((performance.now() - start) * 1000) / iterations;
}
