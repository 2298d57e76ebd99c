/**
 * `npm run bench`: every figure is measured in this one run, against the anchor measured in
 * the same run, and printed as a table. Nothing here is asserted; tests never time things.
 */
import {startGoogleEmulator} from '../src/emulator/index.js';
import {printTable} from './table.js';
import {TOKEN_COLUMNS, runTokenBench} from './tokens.bench.js';
import {runVerifyBench} from './verify.bench.js';
import {FETCH_COLUMNS, runFetchBench} from './fetch.bench.js';
import {CACHE_MEMORY_COLUMNS, runCacheMemoryBench} from './cache-memory.bench.js';

const LATENCY_MS = 30;

async function main(): Promise<void> {
  process.stderr.write(`Starting the Google emulator with ${LATENCY_MS} ms latency...\n`);
  const emulator = await startGoogleEmulator({latencyMs: LATENCY_MS});
  try {
    process.stderr.write('Benchmark 1/4: 1,000 ID-token exchanges at concurrency 100...\n');
    printTable(
      `ID tokens: 1,000 calls at concurrency 100, emulator latency ${LATENCY_MS} ms (ratios against google-auth-library's IdTokenClient in this run)`,
      await runTokenBench(emulator),
      TOKEN_COLUMNS,
    );
    process.stderr.write('Benchmark 2/4: ID-token verification throughput...\n');
    emulator.setLatency(0);
    const verify = await runVerifyBench({emulator});
    printTable(
      'Verification: verifications per second, sequential (ratios against google-auth-library OAuth2Client.verifyIdToken with warm certs in this run)',
      verify.map((row) => ({
        group: 'verify',
        scenario: row.name.replace(/^verify: /, ''),
        'verifications/s': Math.round(row.ops),
        'vs anchor': row.note ?? '',
      })),
      ['verifications/s', 'vs anchor'],
    );
    process.stderr.write('Benchmark 3/4: googleAuthFetch per-call overhead on a warm cache...\n');
    printTable(
      'googleAuthFetch: per-call overhead on a warm cache (ratios against a plain-fetch MCP tool call in this run)',
      await runFetchBench(emulator),
      FETCH_COLUMNS,
    );
    process.stderr.write('Benchmark 4/4: TokenCache memory per entry...\n');
    printTable(
      'TokenCache: memory per entry, settled heap (ratios against the bytes of the token it holds, measured in this run)',
      await runCacheMemoryBench(),
      CACHE_MEMORY_COLUMNS,
    );
  } finally {
    await emulator.close();
  }
}

await main();
