import {describe, expect, it} from 'vitest';

import {TokenCache} from '../../src/tokens/token-cache.js';
import type {Token, TokenRequest, TokenSource} from '../../src/tokens/token-source.js';

/** A token source that mints `tok-N` tokens on demand, each living `lifetimeMs` from the clock. */
class CountingSource implements TokenSource {
  readonly id: string;
  calls = 0;
  failNext = 0;
  lifetimeMs: number;
  readonly #clock: {now: number};
  #release: (() => void)[] = [];
  gate = false;

  constructor(
    clock: {now: number},
    lifetimeMs = 3_600_000,
    id = 'fake:sa@p.iam.gserviceaccount.com',
  ) {
    this.#clock = clock;
    this.lifetimeMs = lifetimeMs;
    this.id = id;
  }

  async getToken(_request: TokenRequest): Promise<Token> {
    this.calls++;
    const n = this.calls;
    if (this.gate) await new Promise<void>((resolve) => this.#release.push(resolve));
    else await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error(`token endpoint unavailable (${n})`);
    }
    return {value: `tok-${n}`, expiresAt: this.#clock.now + this.lifetimeMs};
  }

  open(): void {
    this.gate = false;
    for (const release of this.#release.splice(0)) release();
  }

  async describe() {
    return {kind: 'unknown' as const, origin: 'test', canMintIdTokens: true};
  }
}

const ID: TokenRequest = {kind: 'id', audience: 'https://svc-abc.a.run.app'};
const MINUTE = 60_000;

function setup(options: {margin?: number; lifetimeMs?: number} = {}) {
  const clock = {now: 1_700_000_000_000};
  const source = new CountingSource(clock, options.lifetimeMs);
  const cache = new TokenCache({
    now: () => clock.now,
    ...(options.margin === undefined ? {} : {refreshMarginSeconds: options.margin}),
  });
  return {clock, source, cache};
}

/** Lets background refreshes settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TokenCache', () => {
  it('serves 100 concurrent cold callers with one fetch', async () => {
    const {source, cache} = setup();
    source.gate = true;
    const pending = Array.from({length: 100}, () => cache.get(source, ID));
    await settle();
    expect(source.calls).toBe(1);
    source.open();
    const tokens = await Promise.all(pending);
    expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['tok-1']));
    expect(cache.stats()).toMatchObject({fetches: 1, size: 1});
  });

  it('keys by principal, kind and audience or scopes (scope order does not matter)', async () => {
    const {clock, source, cache} = setup();
    const other = new CountingSource(clock, 3_600_000, 'fake:other@p.iam.gserviceaccount.com');
    await cache.get(source, ID);
    await cache.get(source, {kind: 'id', audience: 'https://other.a.run.app'});
    await cache.get(source, {kind: 'access', scopes: ['a', 'b']});
    await cache.get(source, {kind: 'access', scopes: ['b', 'a']});
    await cache.get(other, ID);
    expect(source.calls).toBe(3);
    expect(other.calls).toBe(1);
  });

  it('refreshes at the margin (default 5 minutes) in the background and keeps serving the valid token', async () => {
    const {clock, source, cache} = setup();
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    clock.now += 54 * MINUTE; // 6 minutes left: still fresh
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    expect(source.calls).toBe(1);
    clock.now += 2 * MINUTE; // 4 minutes left: past the margin
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    expect(source.calls).toBe(2);
    await settle();
    expect((await cache.get(source, ID)).value).toBe('tok-2');
    expect(source.calls).toBe(2);
  });

  it('with margin 0 uses a token until it expires, then fetches before answering', async () => {
    const {clock, source, cache} = setup({margin: 0});
    await cache.get(source, ID);
    clock.now += 60 * MINUTE - 1;
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    expect(source.calls).toBe(1);
    clock.now += 1;
    expect((await cache.get(source, ID)).value).toBe('tok-2');
  });

  it('reuses a short-lived token for at least half its lifetime', async () => {
    const {clock, source, cache} = setup({lifetimeMs: 2 * MINUTE}); // shorter than the 5-minute margin
    await cache.get(source, ID);
    clock.now += MINUTE - 1;
    await cache.get(source, ID);
    expect(source.calls).toBe(1);
    clock.now += 1;
    await cache.get(source, ID);
    expect(source.calls).toBe(2);
  });

  it('invalidate drops only the token that is still cached, so concurrent 401s cause one refetch', async () => {
    const {source, cache} = setup();
    const first = await cache.get(source, ID);
    expect(cache.invalidate(first.value)).toBe(true);
    expect(cache.invalidate(first.value)).toBe(false);
    const results = await Promise.all(Array.from({length: 50}, () => cache.get(source, ID)));
    expect(source.calls).toBe(2);
    expect(results.every((t) => t.value === 'tok-2')).toBe(true);
    // A late caller reporting the old token must not drop the new one.
    expect(cache.invalidate(first.value)).toBe(false);
    expect((await cache.get(source, ID)).value).toBe('tok-2');
    expect(cache.invalidate('never-issued')).toBe(false);
  });

  it('stale-if-error: keeps serving a valid token when refresh fails, retries with backoff, fails only when none is left', async () => {
    const clock = {now: 1_700_000_000_000};
    const source = new CountingSource(clock);
    const cache = new TokenCache({
      now: () => clock.now,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 8000,
    });
    await cache.get(source, ID);
    source.failNext = 100;
    clock.now += 56 * MINUTE; // past the refresh point
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    await settle();
    expect(source.calls).toBe(2);
    // Within the backoff no new attempt is made.
    clock.now += 999;
    expect((await cache.get(source, ID)).value).toBe('tok-1');
    await settle();
    expect(source.calls).toBe(2);
    clock.now += 1;
    await cache.get(source, ID);
    await settle();
    expect(source.calls).toBe(3);
    // The next delay doubles.
    clock.now += 1999;
    await cache.get(source, ID);
    await settle();
    expect(source.calls).toBe(3);
    clock.now += 1;
    await cache.get(source, ID);
    await settle();
    expect(source.calls).toBe(4);
    expect(cache.stats().failures).toBe(3);
    // Once the token has expired, callers see the error.
    clock.now += 5 * MINUTE;
    await expect(cache.get(source, ID)).rejects.toThrow(/token endpoint unavailable/);
    // And recover as soon as the source does.
    source.failNext = 0;
    expect((await cache.get(source, ID)).value).toMatch(/^tok-\d+$/);
  });

  it('caps the backoff between background refresh attempts at retryMaxDelayMs', async () => {
    const clock = {now: 1_700_000_000_000};
    const source = new CountingSource(clock);
    const cache = new TokenCache({
      now: () => clock.now,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 1500,
    });
    await cache.get(source, ID);
    source.failNext = 100;
    clock.now += 56 * MINUTE;
    const attemptAfter = async (ms: number) => {
      clock.now += ms;
      await cache.get(source, ID);
      await settle();
      return source.calls;
    };
    expect(await attemptAfter(0)).toBe(2); // fails; next in 1000 ms
    expect(await attemptAfter(1000)).toBe(3); // fails; next in min(2000, 1500) ms
    expect(await attemptAfter(1499)).toBe(3);
    expect(await attemptAfter(1)).toBe(4); // fails; next in min(4000, 1500) ms
    expect(await attemptAfter(1500)).toBe(5);
  });

  it('a failed cold fetch rejects every waiting caller and a later call tries again', async () => {
    const {source, cache} = setup();
    source.failNext = 1;
    const results = await Promise.allSettled(Array.from({length: 10}, () => cache.get(source, ID)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(source.calls).toBe(1);
    expect((await cache.get(source, ID)).value).toBe('tok-2');
  });

  it('is bounded: the oldest entries go when maxEntries is exceeded', async () => {
    const clock = {now: 0};
    const source = new CountingSource(clock);
    const cache = new TokenCache({now: () => clock.now, maxEntries: 3});
    for (let i = 0; i < 5; i++)
      await cache.get(source, {kind: 'id', audience: `https://a${i}.run.app`});
    expect(cache.stats().size).toBe(3);
    await cache.get(source, {kind: 'id', audience: 'https://a4.run.app'});
    expect(source.calls).toBe(5);
    await cache.get(source, {kind: 'id', audience: 'https://a0.run.app'});
    expect(source.calls).toBe(6);
  });

  it('evicts the least recently used entry, not the oldest one', async () => {
    const clock = {now: 0};
    const source = new CountingSource(clock);
    const cache = new TokenCache({now: () => clock.now, maxEntries: 3});
    const audience = (i: number): TokenRequest => ({kind: 'id', audience: `https://a${i}.run.app`});
    for (let i = 0; i < 3; i++) await cache.get(source, audience(i));
    await cache.get(source, audience(0)); // a0 is now the most recently used
    await cache.get(source, audience(3)); // evicts a1
    expect(source.calls).toBe(4);
    await cache.get(source, audience(0));
    expect(source.calls).toBe(4);
    await cache.get(source, audience(1));
    expect(source.calls).toBe(5);
  });

  it('never evicts an entry whose fetch is in flight, so its callers still share one fetch', async () => {
    const clock = {now: 0};
    const source = new CountingSource(clock);
    const cache = new TokenCache({now: () => clock.now, maxEntries: 1});
    source.gate = true;
    const first = cache.get(source, ID);
    const other = new CountingSource(clock, 3_600_000, 'fake:other@p.iam.gserviceaccount.com');
    await cache.get(other, ID); // over the bound while ID's fetch is in flight
    const second = cache.get(source, ID);
    source.open();
    expect((await first).value).toBe('tok-1');
    expect((await second).value).toBe('tok-1');
    expect(source.calls).toBe(1);
  });

  it('turns a source that throws instead of rejecting into a rejection, and keeps serving on refresh', async () => {
    const {clock, source, cache} = setup();
    await cache.get(source, ID);
    const throwing: TokenSource = {
      id: source.id,
      getToken: () => {
        throw new Error('synchronous failure');
      },
      describe: () => source.describe(),
    };
    clock.now += 56 * MINUTE; // past the refresh point: the refresh throws, the token is served
    expect((await cache.get(throwing, ID)).value).toBe('tok-1');
    await expect(
      cache.get(throwing, {kind: 'id', audience: 'https://new.run.app'}),
    ).rejects.toThrow('synchronous failure');
    expect(cache.stats().failures).toBe(2);
  });

  it('validates its options once, naming the option', () => {
    expect(() => new TokenCache({refreshMarginSeconds: -1})).toThrow(/refreshMarginSeconds/);
    expect(() => new TokenCache({maxEntries: 0})).toThrow(/maxEntries/);
    expect(() => new TokenCache({refreshMarginSeconds: Number.NaN})).toThrow(TypeError);
  });
});
