/**
 * Verification cost, all measured in the same run:
 * - per token: this package's verifier on distinct tokens (every call a miss of its
 *   verified-token cache, keys warm) against the physical floor, one raw `crypto.verify` of the
 *   same tokens with a cached KeyObject; against jose's `compactVerify` (WebCrypto) with a cached
 *   key; against google-auth-library's `OAuth2Client.verifyIdToken` with warm certificates. A
 *   repeated token (a hit of the verified-token cache: this row compares a cache against no
 *   cache) is set against its own floor, the SHA-256 of the token. IAP assertions (ES256) the
 *   same way.
 * - at import: `import('mcp-google-auth/verify')` against `import('jose')` alone, each in a
 *   fresh child process.
 *
 * Several rounds; in each, every subject is measured between two measurements of its anchor.
 * Costs are CPU time of the process (every thread), so the pauses of a shared machine do not
 * decide the ratios; every figure is the median of the rounds with its spread (min-max). Calls
 * are sequential, so a figure is the cost a server pays per request. Nothing is asserted.
 */
import {execFile} from 'node:child_process';
import * as crypto from 'node:crypto';
import {createPublicKey, verify as cryptoVerify} from 'node:crypto';
import type {KeyObject} from 'node:crypto';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {OAuth2Client} from 'google-auth-library';
import {compactVerify, importJWK} from 'jose';
import {startGoogleEmulator} from '../src/emulator/index.js';
import type {GoogleEmulator} from '../src/emulator/index.js';
import {createIapJwtVerifier, createIdTokenVerifier} from '../src/verify/index.js';
import type {BenchRow} from './table.js';

const AUDIENCE = 'https://bench-verify.a.run.app';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Options of {@link runVerifyBench}. */
export interface VerifyBenchOptions {
  /** An emulator to mint tokens and serve keys. Default: one started (and closed) here. */
  emulator?: GoogleEmulator;
  /** Distinct tokens per pass (google-auth-library gets the first 100: it is slow). Default is 500. */
  distinctTokens?: number;
  /** Rounds (each measures every subject once, between two measurements of its anchor). Default is 15. */
  rounds?: number;
  /** Minimum measuring time per measurement, in milliseconds. Default is 60. */
  minDurationMs?: number;
}

/** The columns of {@link runVerifyBench}'s rows (each group lists its anchor first, then what is compared with it). */
export const VERIFY_COLUMNS = ['CPU µs/verification', 'spread µs', 'vs anchor', 'spread'];

/** Median and range of `values`. */
function stats(values: number[]): {median: number; min: number; max: number} {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return {median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number};
}

/**
 * Microseconds of this process's CPU time (user + system, every thread) per call of `pass`
 * (which makes `calls` calls), run until `minMs` of wall time elapsed. CPU time, not wall time:
 * on a shared machine the scheduler's pauses land in wall time at random and would decide the
 * ratios; they do not land in CPU time.
 */
async function microsPerCall(
  calls: number,
  minMs: number,
  pass: () => Promise<void> | void,
): Promise<number> {
  await pass();
  let made = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  do {
    await pass();
    made += calls;
  } while (performance.now() - start < minMs);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / made;
}

/** A token split and decoded ahead of time, for the raw `crypto.verify` floor. */
interface Prepared {
  data: Buffer;
  signature: Buffer;
}

function prepare(token: string): Prepared {
  const lastDot = token.lastIndexOf('.');
  return {
    data: Buffer.from(token.slice(0, lastDot)),
    signature: Buffer.from(token.slice(lastDot + 1), 'base64url'),
  };
}

async function publishedKey(url: string, kid: string): Promise<KeyObject> {
  const set = (await (await fetch(url)).json()) as {keys: Array<Record<string, string>>};
  const jwk = set.keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`no key ${kid} at ${url}`);
  return createPublicKey({key: jwk, format: 'jwk'});
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
  return String(header.kid);
}

interface Scenario {
  name: string;
  /** Verifications one pass makes. */
  calls: number;
  pass: () => Promise<void> | void;
}

/** An anchor and the scenarios compared with it. */
interface Group {
  anchor: Scenario;
  subjects: Scenario[];
}

/**
 * Runs every group `rounds` times. In each round every subject is measured between two
 * measurements of its anchor (anchor, subject, anchor), and its ratio for that round is taken
 * against the mean of the two, so the load of a shared machine drifts out of the ratio. Each
 * row: the median cost with its spread, and the median (and spread) of the per-round ratios.
 */
async function measure(groups: Group[], rounds: number, minMs: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const {anchor, subjects} of groups) {
    const anchorCosts: number[] = [];
    const subjectCosts = subjects.map(() => [] as number[]);
    const ratios = subjects.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, subject] of subjects.entries()) {
        const before = await microsPerCall(anchor.calls, minMs, anchor.pass);
        const cost = await microsPerCall(subject.calls, minMs, subject.pass);
        const after = await microsPerCall(anchor.calls, minMs, anchor.pass);
        anchorCosts.push(before, after);
        subjectCosts[i]?.push(cost);
        ratios[i]?.push(cost / ((before + after) / 2));
      }
    }
    rows.push(row(anchor.name, anchorCosts));
    for (const [i, subject] of subjects.entries()) {
      const ratio = stats(ratios[i] as number[]);
      rows.push({
        ...row(subject.name, subjectCosts[i] as number[]),
        'vs anchor': `${ratio.median.toFixed(2)}x`,
        spread: `${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)}x`,
      });
    }
  }
  return rows;
}

function row(name: string, costs: number[]): BenchRow {
  const cost = stats(costs);
  return {
    group: 'verify',
    scenario: name,
    'CPU µs/verification': cost.median,
    'spread µs': `${cost.min.toFixed(1)}-${cost.max.toFixed(1)}`,
    'vs anchor': '1 (anchor)',
  };
}

/**
 * Verification per token, per kind (see the file's documentation). Every verifier here is
 * warm: keys loaded once before measuring.
 */
export async function runVerifyBench(options: VerifyBenchOptions = {}): Promise<BenchRow[]> {
  const emulator = options.emulator ?? (await startGoogleEmulator());
  const count = options.distinctTokens ?? 500;
  const rounds = options.rounds ?? 15;
  const minMs = options.minDurationMs ?? 60;
  try {
    const distinct: string[] = [];
    const iapDistinct: string[] = [];
    for (let i = 0; i < count; i++) {
      distinct.push(await emulator.mintIdToken({audience: AUDIENCE, claims: {jti: `bench-${i}`}}));
      iapDistinct.push(
        await emulator.mintIapAssertion({email: 'user@example.com', claims: {jti: `bench-${i}`}}),
      );
    }
    const repeated = distinct[0] as string;
    const rsaKey = await publishedKey(emulator.jwksUrl, kidOf(repeated));
    const ecKey = await publishedKey(emulator.iapJwksUrl, kidOf(iapDistinct[0] as string));
    const rawRsa = distinct.map(prepare);
    const rawEc = iapDistinct.map(prepare);

    const verifierOptions = {audience: AUDIENCE, jwksUrl: emulator.jwksUrl};
    const iapOptions = {audience: emulator.iapAudience, jwksUrl: emulator.iapJwksUrl};
    const warm = createIdTokenVerifier(verifierOptions);
    await warm(repeated); // loads the shared key set for this jwksUrl
    await createIapJwtVerifier(iapOptions)(iapDistinct[0] as string);

    const joseKey = await importJWK(rsaKey.export({format: 'jwk'}), 'RS256');
    const google = new OAuth2Client({
      endpoints: {oauth2FederatedSignonPemCertsUrl: `${emulator.url}/oauth2/v1/certs`},
    });
    await google.verifyIdToken({idToken: repeated, audience: AUDIENCE}); // warms the certificates

    const RAW = 'raw crypto.verify RS256, cached KeyObject (floor)';
    const RAW_EC = 'raw crypto.verify ES256, cached KeyObject (floor)';
    const SHA = 'SHA-256 of the token and a Map lookup (floor of a cache hit)';
    const floorMap = new Map([[crypto.hash('sha256', repeated, 'base64'), {}]]);
    const BATCH = 1000;
    const googleSample = distinct.slice(0, 100);
    return await measure(
      [
        {
          anchor: {
            name: RAW,
            calls: count,
            pass: () => {
              for (const {data, signature} of rawRsa)
                cryptoVerify('sha256', data, rsaKey, signature);
            },
          },
          subjects: [
            {
              name: `ours, ${count} distinct ID tokens (verified-token cache misses)`,
              calls: count,
              pass: async () => {
                // A fresh verifier per pass: its verified-token cache is empty, the keys stay warm.
                const fresh = createIdTokenVerifier(verifierOptions);
                for (const token of distinct) await fresh(token);
              },
            },
            {
              name: `jose compactVerify, ${count} distinct ID tokens, cached CryptoKey`,
              calls: count,
              pass: async () => {
                for (const token of distinct) {
                  await compactVerify(token, joseKey, {algorithms: ['RS256']});
                }
              },
            },
            {
              name: `google-auth-library verifyIdToken, ${googleSample.length} distinct ID tokens, warm certs`,
              calls: googleSample.length,
              pass: async () => {
                for (const token of googleSample) {
                  await google.verifyIdToken({idToken: token, audience: AUDIENCE});
                }
              },
            },
          ],
        },
        {
          anchor: {
            name: SHA,
            calls: BATCH,
            pass: () => {
              for (let i = 0; i < BATCH; i++)
                floorMap.get(crypto.hash('sha256', repeated, 'base64'));
            },
          },
          subjects: [
            {
              name: 'ours, one repeated ID token (verified-token cache hit; no cache: the rows above)',
              calls: BATCH,
              pass: async () => {
                for (let i = 0; i < BATCH; i++) await warm(repeated);
              },
            },
          ],
        },
        {
          anchor: {
            name: RAW_EC,
            calls: count,
            pass: () => {
              for (const {data, signature} of rawEc) {
                cryptoVerify('sha256', data, {key: ecKey, dsaEncoding: 'ieee-p1363'}, signature);
              }
            },
          },
          subjects: [
            {
              name: `ours, ${count} distinct IAP assertions (cache misses)`,
              calls: count,
              pass: async () => {
                const fresh = createIapJwtVerifier(iapOptions);
                for (const assertion of iapDistinct) await fresh(assertion);
              },
            },
          ],
        },
      ],
      rounds,
      minMs,
    );
  } finally {
    if (!options.emulator) await emulator.close();
  }
}

/** The columns of {@link runVerifyImportBench}'s rows. */
export const IMPORT_COLUMNS = ['import ms', 'spread ms', 'process ms', 'vs anchor', 'spread'];

const run = promisify(execFile);

/** One child process importing `specifier`: the import's own time and the whole process's. */
async function importOnce(
  specifier: string | undefined,
): Promise<{importMs: number; processMs: number}> {
  const code =
    specifier === undefined
      ? 'process.stdout.write("0")'
      : `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const start = performance.now();
  const {stdout} = await run(process.execPath, ['--input-type=module', '-e', code], {cwd: ROOT});
  return {importMs: Number(stdout), processMs: performance.now() - start};
}

/**
 * Import cost of the server entry against jose alone (the goal: at most 1.6x), with the main
 * entry and an empty process for scale; each import in a fresh child process (dist/ must be
 * built), `rounds` rounds interleaved.
 */
export async function runVerifyImportBench(rounds = 10): Promise<BenchRow[]> {
  const subjects: Array<{name: string; specifier: string | undefined; anchor?: string}> = [
    {name: 'node -e (empty process)', specifier: undefined},
    {name: "import('jose')", specifier: 'jose'},
    {name: "import('mcp-google-auth/verify')", specifier: 'mcp-google-auth/verify', anchor: 'jose'},
    {name: "import('mcp-google-auth')", specifier: 'mcp-google-auth', anchor: 'jose'},
  ];
  const samples = new Map(
    subjects.map((s) => [s.name, [] as Array<{importMs: number; processMs: number}>]),
  );
  await importOnce('jose'); // warm the file-system cache
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects)
      samples.get(subject.name)?.push(await importOnce(subject.specifier));
  }
  const jose = samples.get("import('jose')") as Array<{importMs: number}>;
  return subjects.map((subject) => {
    const own = samples.get(subject.name) as Array<{importMs: number; processMs: number}>;
    const importMs = stats(own.map((s) => s.importMs));
    const row: BenchRow = {
      group: 'import',
      scenario: subject.name,
      'import ms': importMs.median,
      'spread ms': `${importMs.min.toFixed(1)}-${importMs.max.toFixed(1)}`,
      'process ms': stats(own.map((s) => s.processMs)).median,
    };
    if (subject.anchor === undefined) {
      row['vs anchor'] = subject.specifier === 'jose' ? '1 (anchor)' : '';
      return row;
    }
    const ratio = stats(own.map((s, i) => s.importMs / (jose[i] as {importMs: number}).importMs));
    row['vs anchor'] = `${ratio.median.toFixed(2)}x`;
    row.spread = `${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)}x`;
    return row;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {printTable} = await import('./table.js');
  printTable(
    'Verification per token (median of rounds; ratios within each round)',
    await runVerifyBench(),
    VERIFY_COLUMNS,
  );
  printTable(
    'Import of the server entry, fresh child process each (median of rounds)',
    await runVerifyImportBench(),
    IMPORT_COLUMNS,
  );
}
