/**
 * `npm run bench`: every figure is measured in this one run, against the anchor measured in
 * the same run, and printed as a table. Nothing here is asserted; tests never time things.
 */
import {startGoogleEmulator} from '../src/emulator/index.js';
import {printTable} from './table.js';
import {TOKEN_COLUMNS, runTokenBench} from './tokens.bench.js';
import {
  IMPORT_COLUMNS,
  VERIFY_COLUMNS,
  runVerifyBench,
  runVerifyImportBench,
} from './verify.bench.js';
import {FETCH_COLUMNS, runFetchBench} from './fetch.bench.js';
import {ADK_COLUMNS, runAdkBench} from './adk.bench.js';
import {CLI_COLUMNS, cliBenchTitle, runCliBench} from './cli.bench.js';
import {A2A_COLUMNS, runA2aBench} from './a2a.bench.js';
import {CACHE_MEMORY_COLUMNS, runCacheMemoryBench} from './cache-memory.bench.js';
import {PROXY_COLUMNS, proxyBenchTitle, runProxyBench} from './proxy.bench.js';

const LATENCY_MS = 30;

async function main(): Promise<void> {
  process.stderr.write(`Starting the Google emulator with ${LATENCY_MS} ms latency...\n`);
  const emulator = await startGoogleEmulator({latencyMs: LATENCY_MS});
  try {
    process.stderr.write('Benchmark 1/8: 1,000 ID-token exchanges at concurrency 100...\n');
    printTable(
      `ID tokens: 1,000 calls at concurrency 100, emulator latency ${LATENCY_MS} ms (ratios against google-auth-library's IdTokenClient in this run)`,
      await runTokenBench(emulator),
      TOKEN_COLUMNS,
    );
    process.stderr.write(
      'Benchmark 2/8: verification cost per token, and import of the server entry...\n',
    );
    emulator.setLatency(0);
    printTable(
      'Verification: CPU µs per verification, sequential, median of 15 rounds (ratios against the anchor measured around it)',
      await runVerifyBench({emulator}),
      VERIFY_COLUMNS,
    );
    printTable(
      'Import: mcp-google-auth/verify against jose alone, fresh child process each, median of 10 rounds',
      await runVerifyImportBench(),
      IMPORT_COLUMNS,
    );
    process.stderr.write('Benchmark 3/8: googleAuthFetch per-call overhead on a warm cache...\n');
    printTable(
      'googleAuthFetch: per-call overhead on a warm cache (ratios against a plain-fetch MCP tool call in this run)',
      await runFetchBench(emulator),
      FETCH_COLUMNS,
    );
    process.stderr.write(
      'Benchmark 4/8: MCP tool calls from @google/adk tools through the Cloud Run front...\n',
    );
    printTable(
      'ADK tools: `add` through the emulated Cloud Run front, 20 rounds (ratios against a plain MCP SDK client with googleAuthFetch in this run; CPU is the whole process)',
      await runAdkBench(emulator),
      ADK_COLUMNS,
    );
    process.stderr.write('Benchmark 5/8: CLI start-up (child processes)...\n');
    printTable(cliBenchTitle(), runCliBench(), CLI_COLUMNS);
    process.stderr.write('Benchmark 6/8: Google identity on an A2A call, client and server...\n');
    printTable(
      'A2A: message/send over JSON-RPC on loopback, warm token cache (ratios against the same call without authentication in this run)',
      await runA2aBench(emulator),
      A2A_COLUMNS,
    );
    process.stderr.write('Benchmark 7/8: TokenCache memory per entry...\n');
    printTable(
      'TokenCache: memory per entry, settled heap (ratios against the bytes of the token it holds, measured in this run)',
      await runCacheMemoryBench(),
      CACHE_MEMORY_COLUMNS,
    );
    process.stderr.write(
      'Benchmark 8/8: mcp-google-auth proxy (HTTP and stdio) against a fixed-token client on the same front...\n',
    );
    printTable(proxyBenchTitle(), await runProxyBench(), PROXY_COLUMNS);
  } finally {
    await emulator.close();
  }
}

await main();
