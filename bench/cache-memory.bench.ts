/**
 * Memory per TokenCache entry, against its physical floor measured in the same run: the bytes
 * of the token string it holds. Entries hold emulator-shaped Google ID tokens (RS256, a 2048-bit
 * signature, the usual claims) for distinct Cloud Run audiences; the settled heap is measured
 * (`--expose-gc`) before and after filling the cache. This sizes `maxEntries` (default 10,000).
 */
import {randomBytes} from 'node:crypto';
import {TokenCache} from '../src/tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../src/tokens/token-source.js';
import type {BenchRow} from './table.js';

/** Entries per round, and rounds. */
const ENTRIES = 10_000;
const ROUNDS = 3;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Mints ID-token-shaped strings as long as Google's, without signing (memory only). */
class ShapedSource implements TokenSource {
  readonly id = 'key:bench-cache@my-project.iam.gserviceaccount.com:0123456789abcdef';
  async getToken(request: TokenRequest): Promise<Token> {
    const audience = request.kind === 'id' ? request.audience : request.scopes.join(' ');
    const header = b64({alg: 'RS256', kid: randomBytes(20).toString('hex'), typ: 'JWT'});
    const payload = b64({
      aud: audience,
      azp: '112233445566778899001',
      email: 'bench-cache@my-project.iam.gserviceaccount.com',
      email_verified: true,
      exp: 1_900_003_600,
      iat: 1_900_000_000,
      iss: 'https://accounts.google.com',
      sub: '112233445566778899001',
    });
    const value = `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
    return {value, expiresAt: Date.now() + 3_600_000};
  }
  async describe() {
    return {kind: 'unknown' as const, origin: 'bench', canMintIdTokens: true};
  }
}

function settledHeap(): number {
  const gc = (globalThis as {gc?: () => void}).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes per entry of a full cache, and the token length, per round. */
export async function runCacheMemoryBench(): Promise<BenchRow[]> {
  const source = new ShapedSource();
  const perEntry: number[] = [];
  let tokenChars = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let cache: TokenCache | undefined = new TokenCache({maxEntries: ENTRIES});
    const before = settledHeap();
    for (let i = 0; i < ENTRIES; i += 500) {
      const batch = Array.from({length: Math.min(500, ENTRIES - i)}, (_, j) =>
        cache!.get(source, {
          kind: 'id',
          audience: `https://svc-${String(round).padStart(2, '0')}${String(i + j).padStart(6, '0')}-abcdefghij-uc.a.run.app`,
        }),
      );
      const tokens = await Promise.all(batch);
      tokenChars = tokens[0]!.value.length;
    }
    perEntry.push((settledHeap() - before) / ENTRIES);
    if (cache.stats().size !== ENTRIES) throw new Error('the cache did not hold every entry');
    // Released before the next round measures its starting heap.
    cache = undefined;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const sorted = [...perEntry].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return [
    {
      group: 'cache-memory',
      scenario: 'the token string alone (one byte per character: the floor)',
      'bytes/entry': tokenChars,
      'vs floor': 1,
      'MB at maxEntries 10,000': (tokenChars * ENTRIES) / 1e6,
    },
    {
      group: 'cache-memory',
      scenario: `TokenCache entry with a Google-shaped ID token (median of ${ROUNDS} x ${ENTRIES.toLocaleString('en-US')})`,
      'bytes/entry': Math.round(median),
      'vs floor': median / tokenChars,
      'MB at maxEntries 10,000': (median * ENTRIES) / 1e6,
      spread: `${Math.round(sorted[0]!)}-${Math.round(sorted.at(-1)!)}`,
    },
  ];
}

/** Columns of the table. */
export const CACHE_MEMORY_COLUMNS = [
  'bytes/entry',
  'vs floor',
  'MB at maxEntries 10,000',
  'spread',
];
