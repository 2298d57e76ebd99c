/**
 * The retry policy of token fetches, through the TokenCache that runs it, on fake time:
 * which failures are retried, the jittered exponential backoff, `Retry-After`, attempt
 * timeouts, the budget, the words of the final error, and single-flight across retries.
 */
import {describe, expect, it} from 'vitest';
import {CredentialExchangeError} from '../../src/credentials/errors.js';
import {RetryPolicy} from '../../src/tokens/retry-policy.js';
import {exchangeFailure, malformedAnswer} from '../../src/tokens/sources/exchange-failure.js';
import type {FailureContext} from '../../src/tokens/sources/exchange-failure.js';
import {TokenCache} from '../../src/tokens/token-cache.js';
import type {TokenRetryOptions} from '../../src/tokens/retry-policy.js';
import type {Token, TokenRequest, TokenSource} from '../../src/tokens/token-source.js';
import {classifyFailure} from '../../src/tokens/transient-failure.js';
import {FakeTime} from './support/fake-time.js';

const ID: TokenRequest = {kind: 'id', audience: 'https://svc-abc.a.run.app'};
const CONTEXT: FailureContext = {
  request: ID,
  subject: 'service account sa@p.iam.gserviceaccount.com',
};

/** A gaxios-shaped HTTP failure from Google's token endpoint, wrapped as a source wraps it. */
function http(status: number, headers: Record<string, string> = {}, error = 'internal_failure') {
  const cause = Object.assign(new Error(`Request failed with status code ${status}`), {
    config: {url: 'https://oauth2.googleapis.com/token', method: 'POST'},
    response: {status, headers: new Headers(headers), data: {error, error_description: 'x'}},
    status,
  });
  return exchangeFailure(CONTEXT, cause);
}

/** A lost connection, as gaxios reports it (no response, the socket's code). */
function reset() {
  const socket = Object.assign(new Error('read ECONNRESET'), {code: 'ECONNRESET'});
  const cause = Object.assign(new Error('request to https://oauth2.googleapis.com/token failed'), {
    config: {url: 'https://oauth2.googleapis.com/token'},
    response: undefined,
    cause: socket,
  });
  return exchangeFailure(CONTEXT, cause);
}

type Outcome = Error | 'hang' | 'ok';

/** Answers each attempt with the next scripted outcome; records when attempts started. */
class ScriptedSource implements TokenSource {
  readonly id = 'fake:retry@p.iam.gserviceaccount.com';
  readonly starts: number[] = [];
  readonly signals: AbortSignal[] = [];
  #n = 0;

  constructor(
    private readonly time: FakeTime,
    private readonly script: Outcome[],
    private readonly clock: () => number = Date.now,
  ) {}

  get attempts(): number {
    return this.starts.length;
  }

  getToken(_request: TokenRequest, signal?: AbortSignal): Promise<Token> {
    this.starts.push(this.time.t);
    if (signal) this.signals.push(signal);
    const outcome = this.script[this.#n++] ?? 'ok';
    if (outcome === 'ok') {
      return Promise.resolve({value: `tok-${this.#n}`, expiresAt: this.clock() + 3_600_000});
    }
    if (outcome === 'hang') {
      return new Promise((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason as Error), {once: true}),
      );
    }
    return Promise.reject(outcome);
  }

  async describe() {
    return {kind: 'unknown' as const, origin: 'test', canMintIdTokens: true};
  }
}

function setup(script: Outcome[], retry: TokenRetryOptions = {}, random = () => 0.5) {
  const time = new FakeTime();
  const source = new ScriptedSource(time, script);
  const cache = new TokenCache({retry: {now: time.now, sleep: time.sleep, random, ...retry}});
  const fetch = () => time.settle(cache.get(source, ID));
  return {time, source, cache, fetch};
}

async function rejection(promise: Promise<unknown>): Promise<CredentialExchangeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialExchangeError);
  return error as CredentialExchangeError;
}

describe('token fetch retry policy', () => {
  it('a burst of 5 consecutive 503s does not fail the call: attempt 6 succeeds, backoff doubling from 100 ms', async () => {
    const {source, fetch, time, cache} = setup([
      http(503),
      http(503),
      http(503),
      http(503),
      http(503),
    ]);
    const token = await fetch();
    expect(token.value).toBe('tok-6');
    expect(source.attempts).toBe(6);
    const gaps = source.starts.slice(1).map((start, i) => start - source.starts[i]!);
    // random 0.5: three quarters of 100, 200, 400, 800, 1600.
    expect(gaps).toEqual([75, 150, 300, 600, 1200]);
    expect(time.t).toBeLessThan(5_000);
    expect(cache.stats()).toMatchObject({fetches: 1, retries: 5, failures: 0});
  });

  it('jitters each wait between half and all of its step', async () => {
    const low = setup([http(500), http(500), http(500)], {}, () => 0);
    await low.fetch();
    const high = setup([http(500), http(500), http(500)], {}, () => 0.999_999);
    await high.fetch();
    const gaps = (s: ScriptedSource) => s.starts.slice(1).map((t, i) => t - s.starts[i]!);
    expect(gaps(low.source)).toEqual([50, 100, 200]);
    expect(gaps(high.source).map(Math.round)).toEqual([100, 200, 400]);
  });

  it('retries 429, 500-599, 408, lost connections, timeouts and malformed answers', async () => {
    const transient: Outcome[] = [
      http(429),
      http(500),
      http(502),
      http(504),
      http(408),
      reset(),
      malformedAnswer(CONTEXT, 'the answer carried no ID token'),
      'hang',
    ];
    for (const failure of transient) {
      const {source, fetch} = setup([failure]);
      expect((await fetch()).value).toBe('tok-2');
      expect(source.attempts).toBe(2);
    }
  });

  it('honours Retry-After on a 429 (or 503) when it asks for longer than the backoff', async () => {
    const {source, fetch} = setup([
      http(429, {'retry-after': '2'}),
      http(503, {'retry-after': '1'}),
    ]);
    await fetch();
    expect(source.starts).toEqual([0, 2_000, 3_000]);
  });

  it('gives up at once when Retry-After asks for more than the budget has left', async () => {
    const {source, fetch} = setup([http(429, {'retry-after': '30'})]);
    const error = await rejection(fetch());
    expect(source.attempts).toBe(1);
    expect(error.message).toContain(
      'Gave up after 1 attempt over 0.0 s (retry budget 5.0 s; Google asked to wait 30.0 s (Retry-After)).',
    );
  });

  it('stops within the budget and says how many attempts over how long', async () => {
    const {source, fetch, time} = setup(
      Array.from({length: 50}, () => http(503)),
      {},
      () => 1 - 1e-9,
    );
    const error = await rejection(fetch());
    // Full steps: 100 + 200 + 400 + 800 + 1600 = 3100 ms; the next (2000, capped) would end past 5 s.
    expect(source.attempts).toBe(6);
    expect(Math.round(time.t)).toBe(3_100);
    expect(error.message).toMatch(/answered HTTP 503/);
    expect(error.message).toMatch(
      /Gave up after 6 attempts over 3\.1 s \(retry budget 5\.0 s\)\.$/,
    );
    expect(error.code).toBe('exchange_failed');
    expect((error.cause as CredentialExchangeError).message).toMatch(/HTTP 503/);
  });

  it('times out a silent attempt (default 2 s), aborts its signal, and counts the timeouts in the budget', async () => {
    const {source, fetch, time} = setup(['hang', 'hang', 'hang', 'hang']);
    const error = await rejection(fetch());
    // 0-2000 timeout, wait 75, 2075-4075 timeout, wait 150, 4225-5000 (what is left) timeout.
    expect(source.starts).toEqual([0, 2_075, 4_225]);
    expect(time.t).toBe(5_000);
    expect(source.signals.every((signal) => signal.aborted)).toBe(true);
    // The words are those of the last full attempt, not of the one the budget cut to 0.8 s.
    expect(error.message).toMatch(/no answer within 2\.0 s\. Gave up after 3 attempts over 5\.0 s/);
  });

  it('an attempt cut short by the budget does not hide the answer before it', async () => {
    const {source, fetch, time} = setup([http(503), 'hang'], {budgetMs: 1_000});
    const error = await rejection(fetch());
    // 0: 503, wait 75, 75-1000: the second attempt gets only what is left of the budget.
    expect(source.starts).toEqual([0, 75]);
    expect(time.t).toBe(1_000);
    expect(error.message).toMatch(/answered HTTP 503/);
    expect(error.message).not.toMatch(/no answer within/);
    expect(error.message).toMatch(
      /Gave up after 2 attempts over 1\.0 s \(retry budget 1\.0 s\)\.$/,
    );
  });

  it('two timeouts in a row still leave room for a third attempt', async () => {
    const {source, fetch} = setup(['hang', 'hang']);
    expect((await fetch()).value).toBe('tok-3');
    expect(source.attempts).toBe(3);
  });

  it('never retries a permanent failure: invalid_grant, 401, 403, 404, a bad key, an unsupported credential', async () => {
    const keyFailure = exchangeFailure(
      CONTEXT,
      Object.assign(new Error('error:1E08010C:DECODER routines::unsupported'), {
        code: 'ERR_OSSL_UNSUPPORTED',
      }),
    );
    const unsupported = new CredentialExchangeError('user credentials cannot mint ID tokens', {
      code: 'id_token_unsupported',
    });
    for (const failure of [
      http(400, {}, 'invalid_grant'),
      http(401),
      http(403),
      http(404),
      keyFailure,
      unsupported,
      new Error('a bug'),
    ]) {
      const {source, fetch} = setup([failure]);
      const error = await fetch().catch((e: unknown) => e);
      expect(error).toBe(failure); // reported at once, as it was
      expect(source.attempts).toBe(1);
    }
  });

  it('a permanent failure after transient ones is reported at once, saying which attempt it was', async () => {
    const {source, fetch} = setup([http(503), http(503), http(403)]);
    const error = await rejection(fetch());
    expect(source.attempts).toBe(3);
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(
      /HTTP 403.*Not retried: this was attempt 3, 0\.2 s after the first\.$/s,
    );
  });

  it('concurrent callers share one fetch and its retries (single-flight holds)', async () => {
    const {source, cache, time} = setup([http(503), http(503), reset(), http(500), http(429)]);
    const callers = Array.from({length: 50}, () => cache.get(source, ID));
    const tokens = await time.settle(Promise.all(callers));
    expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['tok-6']));
    expect(source.attempts).toBe(6);
    expect(cache.stats().fetches).toBe(1);
  });

  it('a caller arriving during the backoff joins the fetch in progress', async () => {
    const {source, cache, time} = setup([http(503), http(503)]);
    const first = cache.get(source, ID);
    await new Promise((resolve) => setImmediate(resolve));
    const second = cache.get(source, ID);
    const [a, b] = await time.settle(Promise.all([first, second]));
    expect(b.value).toBe(a.value);
    expect(source.attempts).toBe(3);
  });

  it('an error whose retries are spent is never retried by an outer policy (no multiplied retries)', async () => {
    const inner = setup(Array.from({length: 50}, () => http(503)));
    const spent = await rejection(inner.fetch());
    expect(classifyFailure(spent).kind).toBe('permanent');
    const wrapped = new CredentialExchangeError(`outer: ${spent.message}`, {cause: spent});
    expect(classifyFailure(wrapped).kind).toBe('permanent');
    const outer = setup([wrapped]);
    await expect(outer.fetch()).rejects.toBe(wrapped);
    expect(outer.source.attempts).toBe(1);
  });

  it('budgetMs 0 turns retries off', async () => {
    const {source, fetch} = setup([http(503)], {budgetMs: 0});
    const error = await rejection(fetch());
    expect(source.attempts).toBe(1);
    expect(error.message).toMatch(/HTTP 503/);
  });

  it('a stale token is still served while a background refresh retries, and the refresh lands', async () => {
    const time = new FakeTime();
    const clock = {now: 1_700_000_000_000};
    const source = new ScriptedSource(time, ['ok', http(503), http(503)], () => clock.now);
    const cache = new TokenCache({
      now: () => clock.now,
      retry: {now: time.now, sleep: time.sleep, random: () => 0.5},
    });
    const first = await time.settle(cache.get(source, ID));
    clock.now += 56 * 60_000; // past the refresh point, still valid
    expect((await cache.get(source, ID)).value).toBe(first.value);
    const refreshed = (async () => {
      for (;;) {
        const token = await cache.get(source, ID);
        if (token.value !== first.value) return token;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    expect((await time.settle(refreshed)).value).toBe('tok-4');
    expect(source.attempts).toBe(4);
    expect(cache.stats()).toMatchObject({fetches: 2, retries: 2, failures: 0});
  });

  it('validates its options once, naming the option', () => {
    expect(() => new TokenCache({retry: {budgetMs: -1}})).toThrow(
      /TokenCacheOptions\.retry\.budgetMs/,
    );
    expect(() => new TokenCache({retry: {initialDelayMs: 0}})).toThrow(/retry\.initialDelayMs/);
    expect(() => new TokenCache({retry: {initialDelayMs: 500, maxDelayMs: 100}})).toThrow(
      /retry\.maxDelayMs must be a finite number of milliseconds >= 500/,
    );
    expect(() => new TokenCache({retry: {attemptTimeoutMs: Number.NaN}})).toThrow(
      /attemptTimeoutMs/,
    );
    expect(() => new TokenCache({retry: {sleep: 5 as never}})).toThrow(
      /retry\.sleep must be a function/,
    );
    expect(() => new TokenCache({retry: null as never})).toThrow(TypeError);
    expect(new RetryPolicy({budgetMs: 8000}).budgetMs).toBe(8000);
  });
});
