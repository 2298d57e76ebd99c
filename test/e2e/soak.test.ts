/**
 * The chaos soak, 20 seconds of it (`npm run soak` runs 5 minutes): `McpToolset`, an MCP SDK
 * client with `googleAuthFetch`, the stdio proxy and the HTTP proxy of the built CLI call a
 * tool through the emulated Cloud Run front while tokens rotate every few seconds, every
 * Google endpoint fails in bursts (5xx, 429, timeouts, resets, malformed answers), tokens
 * are revoked at the moment a burst hits, signing keys rotate, the MCP server loses its
 * sessions and restarts, and the front restarts. The goals hold.
 */
import {existsSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {runChaosSoak} from '../../soak/chaos.js';
import {CLI_PATH} from '../../soak/clients.js';
import {formatChaosReport} from '../../soak/report.js';

/**
 * Heap growth allowed from a third of the run to its end, in MiB. In 20 s the heap has not
 * settled into the steady state the 5-minute run measures (10 MiB from minute 1): buffers and
 * JIT code still grow a little with the first faults of each kind. Measured: 0.1 to 1.5 MiB.
 */
const SHORT_RUN_HEAP_LIMIT_MIB = 6;

describe('chaos soak, 20 seconds', () => {
  it.skipIf(!existsSync(CLI_PATH))(
    'meets every goal: 0 failed calls, token requests in budget, one session per client per loss, bounded heap, no warning',
    {timeout: 120_000},
    async () => {
      const lines: string[] = [];
      const report = await runChaosSoak({
        durationMs: 20_000,
        tokenLifetimeSeconds: 6,
        eventEveryMs: 1_800,
        heapGrowthLimitMiB: SHORT_RUN_HEAP_LIMIT_MIB,
        progress: (line) => lines.push(line),
      });
      const text = formatChaosReport(report);
      // Every kind of event happened at least once.
      const kinds = report.events.filter((event) => event.count > 0).map((event) => event.name);
      expect(kinds).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^revoked tokens/),
          'signing-key rotation',
          'MCP server loses its sessions',
          'MCP server restarts',
          'front restarts',
          expect.stringMatching(/timeout/),
          expect.stringMatching(/HTTP 429/),
          expect.stringMatching(/connection reset/),
        ]),
      );
      expect(
        report.clients.every((client) => client.calls > 20),
        text,
      ).toBe(true);
      expect(
        report.goals.filter((goal) => !goal.ok),
        `${text}\n${lines.join('\n')}`,
      ).toEqual([]);
    },
  );
});
