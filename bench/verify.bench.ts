/**
 * Verification throughput: this package's verifier against google-auth-library's
 * `OAuth2Client.verifyIdToken` with warm certificates, on the same emulator tokens in the
 * same run. Calls are sequential (one in flight), so the figure is the per-request cost a
 * server pays; nothing is asserted.
 */
import {OAuth2Client} from 'google-auth-library';
import {startGoogleEmulator} from '../src/emulator/index.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {createIdTokenVerifier} from '../src/verify/index.js';

/** One measured scenario. */
export interface VerifyBenchRow {
  name: string;
  /** Verifications per second. */
  ops: number;
  note?: string;
}

/** Options of {@link runVerifyBench}. */
export interface VerifyBenchOptions {
  /** An emulator to mint tokens and serve keys. Default: one started (and closed) here. */
  emulator?: GoogleEmulator;
  /** Distinct tokens in the "distinct" scenarios. Default is 1000. */
  distinctTokens?: number;
  /** Minimum measuring time per scenario, in milliseconds. Default is 1000. */
  minDurationMs?: number;
}

const AUDIENCE = 'https://bench-verify.a.run.app';

/** Runs `pass` (which performs `callsPerPass` verifications) until `minMs` elapsed; returns calls per second. */
async function opsPerSecond(
  callsPerPass: number,
  minMs: number,
  pass: () => Promise<void>,
): Promise<number> {
  await pass();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await pass();
    calls += callsPerPass;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return (calls * 1000) / elapsed;
}

/**
 * Measures: ours on one repeated token, ours on distinct tokens (every call a cache miss),
 * and google-auth-library's `OAuth2Client.verifyIdToken` (certificates fetched once, then
 * cached) on the same repeated and distinct tokens.
 */
export async function runVerifyBench(options: VerifyBenchOptions = {}): Promise<VerifyBenchRow[]> {
  const emulator = options.emulator ?? (await startGoogleEmulator());
  const count = options.distinctTokens ?? 1000;
  const minMs = options.minDurationMs ?? 1000;
  try {
    const repeated = await emulator.mintIdToken({audience: AUDIENCE});
    const distinct: string[] = [];
    for (let i = 0; i < count; i++) {
      distinct.push(await emulator.mintIdToken({audience: AUDIENCE, claims: {jti: `bench-${i}`}}));
    }

    const verifierOptions = {audience: AUDIENCE, jwksUrl: emulator.jwksUrl};
    const ours = createIdTokenVerifier(verifierOptions);
    await ours(repeated); // loads the shared key set for this jwksUrl

    const google = new OAuth2Client({
      endpoints: {oauth2FederatedSignonPemCertsUrl: `${emulator.url}/oauth2/v1/certs`},
    });
    await google.verifyIdToken({idToken: repeated, audience: AUDIENCE}); // warms the certificate cache

    const BATCH = 1000;
    const oursRepeated = await opsPerSecond(BATCH, minMs, async () => {
      for (let i = 0; i < BATCH; i++) await ours(repeated);
    });
    const oursDistinct = await opsPerSecond(count, minMs, async () => {
      // A fresh verifier per pass: its verified-token cache is empty, the keys stay warm (shared per jwksUrl).
      const fresh = createIdTokenVerifier(verifierOptions);
      for (const token of distinct) await fresh(token);
    });
    const googleRepeated = await opsPerSecond(100, minMs, async () => {
      for (let i = 0; i < 100; i++)
        await google.verifyIdToken({idToken: repeated, audience: AUDIENCE});
    });
    const googleDistinct = await opsPerSecond(count, minMs, async () => {
      for (const token of distinct)
        await google.verifyIdToken({idToken: token, audience: AUDIENCE});
    });

    const ratio = (value: number, anchor: number): string =>
      `${(value / anchor).toFixed(1)}x google-auth-library`;
    return [
      {
        name: 'verify: ours, one repeated token',
        ops: oursRepeated,
        note: ratio(oursRepeated, googleRepeated),
      },
      {
        name: `verify: ours, ${count.toLocaleString('en-US')} distinct tokens`,
        ops: oursDistinct,
        note: ratio(oursDistinct, googleDistinct),
      },
      {
        name: 'verify: google-auth-library OAuth2Client.verifyIdToken, one repeated token (warm certs)',
        ops: googleRepeated,
        note: 'anchor',
      },
      {
        name: `verify: google-auth-library OAuth2Client.verifyIdToken, ${count.toLocaleString('en-US')} distinct tokens (warm certs)`,
        ops: googleDistinct,
        note: 'anchor',
      },
    ];
  } finally {
    if (!options.emulator) await emulator.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await runVerifyBench()) {
    process.stdout.write(
      `${row.name}: ${Math.round(row.ops).toLocaleString('en-US')} ops/s${row.note ? ` (${row.note})` : ''}\n`,
    );
  }
}
