import {
  observeTokenFetch,
  recordCacheHit,
  recordRefreshAhead,
  recordStaleServed,
} from '../telemetry/token-telemetry.js';
import {tokenFingerprint} from './fingerprint.js';
import {RetryPolicy} from './retry-policy.js';
import type {TokenRetryOptions} from './retry-policy.js';
import {describeRequest} from './sources/exchange-failure.js';
import type {Token, TokenRequest, TokenSource} from './token-source.js';

/** Default of {@link TokenCacheOptions.maxEntries}. */
const DEFAULT_MAX_ENTRIES = 10_000;

/** Options of {@link TokenCache}. Validated once, when the cache is built. */
export interface TokenCacheOptions {
  /**
   * Refresh this many seconds before a token expires. A token is still reused for at least
   * half its lifetime, so short-lived tokens are not refetched on every call.
   * Default is 300 (5 minutes); 0 refreshes only at expiry.
   */
  refreshMarginSeconds?: number;
  /**
   * Most cache entries (principal × kind × audience or scopes) kept; the least recently used
   * go first. An entry whose fetch has callers waiting is never evicted, so while more keys
   * than this are being fetched at once the cache holds them all, and shrinks back once they
   * settle. An entry costs about 1.3 KB with a Google ID token in it (`npm run bench`).
   * Default is 10000 (about 13 MB when full).
   */
  maxEntries?: number;
  /**
   * First delay after a failed background refresh, in milliseconds; doubles per failure.
   * The retry is made by the first `get` after the delay (the cache runs no timers).
   * Default is 1000 (1 second).
   */
  retryBaseDelayMs?: number;
  /** Longest delay between background refresh attempts, in milliseconds. Default is 60000 (1 minute). */
  retryMaxDelayMs?: number;
  /** The clock, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /**
   * How one fetch retries transient failures (5xx, 429 with its `Retry-After`, timeouts,
   * lost connections, malformed answers) before its callers see an error: jittered
   * exponential backoff from 100 ms within a budget of 5 s by default. Concurrent callers
   * share the attempts of their one fetch; permanent failures are reported at once. See
   * {@link TokenRetryOptions}.
   */
  retry?: TokenRetryOptions;
}

/** Counters of a {@link TokenCache}, for demos, benchmarks and tests. */
export interface TokenCacheStats {
  /** Calls answered from the cache without waiting on a fetch. */
  hits: number;
  /** Fetches started (one per single-flight group). */
  fetches: number;
  /** Attempts beyond the first made by the retry policy, over every fetch. */
  retries: number;
  /** Fetches that failed. */
  failures: number;
  /** Entries held now. */
  size: number;
}

interface Entry {
  token: Token | undefined;
  /** When the current token was stored (epoch ms), for the half-lifetime rule. */
  storedAt: number;
  inflight: Promise<Token> | undefined;
  failures: number;
  retryAt: number;
}

/**
 * Tokens shared by every exchanger, fetch and toolset of a process: one fetch for any
 * number of concurrent callers, refresh ahead of expiry without blocking callers, the
 * current token kept when a refresh fails while it is still valid, and `invalidate` for
 * 401 handling without stampedes.
 *
 * @example
 * const cache = new TokenCache({refreshMarginSeconds: 300});
 * const token = await cache.get(source, {kind: 'id', audience: 'https://svc-abc.a.run.app'});
 */
export class TokenCache {
  readonly #marginMs: number;
  readonly #maxEntries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #now: () => number;
  readonly #retry: RetryPolicy;
  readonly #entries = new Map<string, Entry>();
  readonly #keyByToken = new Map<string, string>();
  #hits = 0;
  #fetches = 0;
  #retries = 0;
  #failures = 0;

  constructor(options: TokenCacheOptions = {}) {
    this.#marginMs = 1000 * nonNegative('refreshMarginSeconds', options.refreshMarginSeconds, 300);
    this.#maxEntries = positiveInteger('maxEntries', options.maxEntries, DEFAULT_MAX_ENTRIES);
    this.#retryBaseMs = nonNegative('retryBaseDelayMs', options.retryBaseDelayMs, 1000);
    this.#retryMaxMs = nonNegative('retryMaxDelayMs', options.retryMaxDelayMs, 60_000);
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('TokenCacheOptions.now must be a function returning epoch milliseconds');
    }
    this.#now = options.now ?? Date.now;
    this.#retry = new RetryPolicy(options.retry);
  }

  /**
   * A valid token for `request` from `source`: the cached one while it is fresh, else one
   * fetch shared by every concurrent caller. Past the refresh point a still-valid token is
   * returned at once while a single background refresh runs.
   */
  get(source: TokenSource, request: TokenRequest): Promise<Token> {
    const key = cacheKey(source, request);
    let entry = this.#entries.get(key);
    if (entry) {
      // Map order is the eviction order: the most recently used entry goes last.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      const token = entry.token;
      const now = this.#now();
      if (token && now < token.expiresAt) {
        this.#hits++;
        recordCacheHit(request.kind);
        if (entry.failures > 0) recordStaleServed(request.kind);
        if (now >= this.#refreshAt(entry, token) && !entry.inflight && now >= entry.retryAt) {
          recordRefreshAhead(request.kind);
          this.#fetch(key, entry, source, request).catch(() => {
            // Stale-if-error: the current token stays in use; #fetch scheduled the next attempt.
          });
        }
        return Promise.resolve(token);
      }
    } else {
      entry = {token: undefined, storedAt: 0, inflight: undefined, failures: 0, retryAt: 0};
      this.#entries.set(key, entry);
      // The fetch starts before eviction, so the new entry counts as having a caller waiting.
      const fetching = this.#fetch(key, entry, source, request);
      this.#evict();
      return fetching;
    }
    return entry.inflight ?? this.#fetch(key, entry, source, request);
  }

  /**
   * Drop `token` if it is still the cached token for its key (a server refused it).
   * Callers that saw the same refused token after someone else replaced it change
   * nothing, so N concurrent 401s cause one refetch. Returns whether it dropped anything.
   */
  invalidate(token: string): boolean {
    const key = this.#keyByToken.get(token);
    if (key === undefined) return false;
    this.#keyByToken.delete(token);
    const entry = this.#entries.get(key);
    if (entry?.token?.value !== token) return false;
    entry.token = undefined;
    entry.failures = 0;
    entry.retryAt = 0;
    return true;
  }

  /** Forget every token. In-flight fetches still settle for their callers. */
  clear(): void {
    this.#entries.clear();
    this.#keyByToken.clear();
  }

  /** Counters since the cache was built. */
  stats(): TokenCacheStats {
    return {
      hits: this.#hits,
      fetches: this.#fetches,
      retries: this.#retries,
      failures: this.#failures,
      size: this.#entries.size,
    };
  }

  #refreshAt(entry: Entry, token: Token): number {
    const halfLife = entry.storedAt + (token.expiresAt - entry.storedAt) / 2;
    return Math.max(token.expiresAt - this.#marginMs, halfLife);
  }

  #fetch(key: string, entry: Entry, source: TokenSource, request: TokenRequest): Promise<Token> {
    this.#fetches++;
    // A source that throws instead of rejecting fails its attempt (the policy catches it),
    // so callers served from the cache are never broken by it.
    const minted = observeTokenFetch(
      source.id,
      request.kind,
      (observer) =>
        this.#retry.run(
          (signal) => source.getToken(request, signal),
          () => `${describeRequest(request)} from ${source.id}`,
          {
            onRetry: (attempt, failure, waitMs) => observer.retry(attempt, failure, waitMs),
            onEnd: (report) => {
              this.#retries += report.attempts - 1;
              observer.end(report.attempts, report.failure);
            },
          },
        ),
      (token) => tokenFingerprint(token.value),
    );
    const inflight = minted.then(
      (token) => {
        if (entry.inflight === inflight) entry.inflight = undefined;
        if (entry.token) this.#keyByToken.delete(entry.token.value);
        entry.token = token;
        entry.storedAt = this.#now();
        entry.failures = 0;
        entry.retryAt = 0;
        if (this.#entries.get(key) === entry) this.#keyByToken.set(token.value, key);
        this.#evict();
        return token;
      },
      (error: unknown) => {
        if (entry.inflight === inflight) entry.inflight = undefined;
        this.#failures++;
        entry.failures++;
        const delay = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (entry.failures - 1));
        entry.retryAt = this.#now() + delay;
        this.#evict();
        throw error;
      },
    );
    entry.inflight = inflight;
    return inflight;
  }

  #evict(): void {
    if (this.#entries.size <= this.#maxEntries) return;
    // Least recently used first (see get); an entry with a fetch in flight stays, so its
    // callers keep sharing that one fetch.
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries) break;
      if (entry.inflight) continue;
      this.#entries.delete(key);
      if (entry.token) this.#keyByToken.delete(entry.token.value);
    }
  }
}

/**
 * The entry of `request` from `source`: the source's holder key (its `id`, derived from what
 * only the holder of the credential has; see the sources), the kind, and the audience or the
 * sorted scopes, encoded so that no audience or id text can pass for another's.
 */
function cacheKey(source: TokenSource, request: TokenRequest): string {
  return request.kind === 'id'
    ? JSON.stringify([source.id, 'id', request.audience])
    : JSON.stringify([source.id, 'access', [...request.scopes].sort()]);
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `TokenCacheOptions.${name} must be a finite number >= 0, got ${String(value)}`,
    );
  }
  return value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`TokenCacheOptions.${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

let defaultCache: TokenCache | undefined;

/** The process-wide cache every exchanger, fetch and toolset uses unless given its own. */
export function defaultTokenCache(): TokenCache {
  defaultCache ??= new TokenCache();
  return defaultCache;
}
