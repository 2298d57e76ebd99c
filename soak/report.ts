/**
 * The soak's table: per client, calls, failures (with their causes), sessions and latency;
 * then token requests against the least possible and the budget, sessions, heap, events,
 * and the goals with a verdict each.
 */
import type {ChaosSoakReport} from './chaos.js';

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  '),
    )
    .join('\n');
}

const n = (value: number): string => value.toLocaleString('en-US');
const ms = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(1));

/** The report as text, for people. */
export function formatChaosReport(report: ChaosSoakReport): string {
  const out: string[] = [];
  const seconds = (report.durationMs / 1000).toFixed(0);
  out.push(
    `\nChaos soak: ${seconds} s, tokens living ${report.tokenLifetimeSeconds} s, 4 clients through the emulated Cloud Run front\n`,
  );
  out.push(
    pad([
      ['client', 'calls', 'failed', 're-run after 404', 'sessions', 'p50 ms', 'p99 ms'],
      ...report.clients.map((c) => [
        c.name,
        n(c.calls),
        n(c.failures),
        n(c.reconnects),
        c.sessions === undefined ? '(in proxy)' : n(c.sessions),
        ms(c.p50Ms),
        ms(c.p99Ms),
      ]),
    ]),
  );
  const causes = report.clients.flatMap((c) =>
    Object.entries(c.causes).map(([cause, count]) => `  ${count} x ${c.name}: ${cause}`),
  );
  out.push(`\nFailures by cause:${causes.length === 0 ? ' none' : `\n${causes.join('\n')}`}`);
  const t = report.tokenRequests;
  const endpoints = Object.entries(t.byEndpoint)
    .filter(([, count]) => (count ?? 0) > 0)
    .map(([endpoint, count]) => `${endpoint} ${count}`)
    .join(', ');
  out.push(
    `\nToken requests: ${n(t.total)} (${endpoints})` +
      `\n  least possible (one per token lifetime per token needed): ${n(t.minimum)} (${(t.total / Math.max(1, t.minimum)).toFixed(2)}x)` +
      `\n  budget: rotations at half-life ${n(t.rotations)} + injected faults ${n(t.injectedFaults)} + 2 per client = ${n(t.budget)}`,
  );
  out.push(
    `MCP sessions at the server: ${report.sessions.observed} (expected ${report.clients.length} clients x (1 + ${report.sessions.losses} forced losses) = ${report.sessions.expected})`,
  );
  const rejections = Object.entries(report.front.rejections)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  out.push(
    `The front refused: ${report.front.revoked} revoked tokens; invalid tokens by code: ${rejections || 'none'}; upstream errors ${report.front.upstreamErrors}`,
  );
  const h = report.heapMiB;
  out.push(
    `Heap (this process: in-process clients, emulator, front, MCP server): start ${h.start.toFixed(1)} MiB, at ${(h.markAtMs / 1000).toFixed(0)} s ${h.mark.toFixed(1)} MiB, end ${h.end.toFixed(1)} MiB`,
  );
  out.push(
    `\nEvents injected:\n${report.events
      .filter((e) => e.count > 0)
      .map(
        (e) =>
          `  ${e.count} x ${e.name}${e.skipped ? ` (${e.skipped} skipped: burst still pending)` : ''}`,
      )
      .join('\n')}`,
  );
  out.push(
    `\nGoals:\n${report.goals.map((g) => `  ${g.ok ? 'PASS' : 'FAIL'}  ${g.name}: ${g.detail}`).join('\n')}\n`,
  );
  return out.join('\n');
}
