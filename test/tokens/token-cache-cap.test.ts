/**
 * The token cache past its cap: more audiences in flight than `maxEntries`. An entry that has
 * callers waiting on its fetch is never evicted, so single-flight holds however many keys
 * are in flight, and the cache comes back under its cap once they settle.
 */
import {describe, expect, it} from 'vitest';
import {TokenCache} from '../../src/tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../../src/tokens/token-source.js';

/** Mints `tok-N` after a macrotask, so that every caller of a round is waiting at once. */
class SlowSource implements TokenSource {
  readonly id = 'fake:cap@p.iam.gserviceaccount.com';
  calls = 0;

  async getToken(request: TokenRequest): Promise<Token> {
    this.calls++;
    await new Promise((resolve) => setImmediate(resolve));
    const aud = request.kind === 'id' ? request.audience : request.scopes.join(' ');
    return {value: `tok-${this.calls}-${aud}`, expiresAt: Date.now() + 3_600_000};
  }

  async describe() {
    return {kind: 'unknown' as const, origin: 'test', canMintIdTokens: true};
  }
}

const audience = (i: number): TokenRequest => ({kind: 'id', audience: `https://svc-${i}.run.app`});

describe('TokenCache past its cap', () => {
  it('3,000 audiences × 3 concurrent callers with maxEntries 1,000 make 3,000 fetches', async () => {
    const source = new SlowSource();
    const cache = new TokenCache({maxEntries: 1_000});
    const calls: Promise<Token>[] = [];
    for (let i = 0; i < 3_000; i++) {
      for (let caller = 0; caller < 3; caller++) calls.push(cache.get(source, audience(i)));
    }
    const tokens = await Promise.all(calls);
    expect(source.calls).toBe(3_000);
    for (let i = 0; i < 3_000; i++) {
      const [a, b, c] = tokens.slice(i * 3, i * 3 + 3);
      expect(b!.value).toBe(a!.value);
      expect(c!.value).toBe(a!.value);
    }
    // Back under the cap once nothing is in flight.
    expect(cache.stats().size).toBeLessThanOrEqual(1_000);
  });

  it('a key added while the cache is full of fetches in flight keeps its own callers together', async () => {
    const source = new SlowSource();
    const cache = new TokenCache({maxEntries: 1});
    const first = cache.get(source, audience(0));
    const [a, b] = [cache.get(source, audience(1)), cache.get(source, audience(1))];
    expect((await b).value).toBe((await a).value);
    await first;
    expect(source.calls).toBe(2);
    expect(cache.stats().size).toBe(1);
  });

  it('the default cap holds 10,000 entries', async () => {
    const source = new SlowSource();
    const cache = new TokenCache();
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({length: 1_000}, (_, i) => cache.get(source, audience(round * 1_000 + i))),
      );
    }
    expect(cache.stats().size).toBe(10_000);
    await cache.get(source, audience(0));
    expect(source.calls).toBe(10_000);
    await cache.get(source, audience(10_000));
    expect(cache.stats().size).toBe(10_000);
  });
});
