import {importJWK} from 'jose';
import type {CryptoKey} from 'jose';
import type {FetchLike} from '../tokens/google-routing.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';

/** Shortest time between two JWKS requests caused by an unknown `kid`, in milliseconds. */
export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** Shortest time between a failed JWKS request and the next attempt, in milliseconds. */
export const FAILED_FETCH_RETRY_MS = 5_000;
/** Freshness of a JWKS response without `Cache-Control: max-age`, in milliseconds. */
export const DEFAULT_JWKS_MAX_AGE_MS = 300_000;
/** Bounds applied to `max-age`, in milliseconds: at least the cooldown, at most one day. */
const MIN_MAX_AGE_MS = UNKNOWN_KID_COOLDOWN_MS;
const MAX_MAX_AGE_MS = 86_400_000;
/** Largest JWKS body accepted, in characters. */
const MAX_JWKS_BODY = 256 * 1024;

/** Options of {@link JwksKeySet}. */
export interface JwksKeySetOptions {
  /** The JWKS URL. */
  url: string;
  /** The fetch to use. Default is the global `fetch`. */
  fetch?: FetchLike;
  /** Timeout of one request, in milliseconds. Default is 5000. */
  timeoutMs?: number;
}

/** Counters of a {@link JwksKeySet}, for tests and benchmarks. */
export interface JwksKeySetStats {
  /** JWKS requests started. */
  fetches: number;
  /** JWKS requests that failed (network, status, body or no usable key). */
  failures: number;
}

/**
 * Google's signing keys, from a JWKS URL: cached per `Cache-Control: max-age` (and `Age`);
 * an unknown `kid` refetches at most once per 30 seconds; concurrent refetches share one
 * request; when the endpoint fails, cached keys keep working, and with no keys at all the
 * lookup fails closed with `keys_unavailable`. Only RSA keys usable for RS256 are kept.
 * The clock is passed on each call, so one set can serve verifiers with injected clocks.
 */
export class JwksKeySet {
  readonly url: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  #keys: Map<string, CryptoKey> | undefined;
  #freshUntil = 0;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #lastError: unknown;
  #inflight: Promise<void> | undefined;
  readonly #stats: JwksKeySetStats = {fetches: 0, failures: 0};

  constructor(options: JwksKeySetOptions) {
    this.url = options.url;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** A copy of the counters. */
  get stats(): JwksKeySetStats {
    return {...this.#stats};
  }

  /** Whether `kid` is among the cached keys now (no request is made). */
  has(kid: string): boolean {
    return this.#keys?.has(kid) ?? false;
  }

  /** Whether the cached keys are past their `max-age` at `now` (epoch ms). */
  isStale(now: number): boolean {
    return this.#keys === undefined || now >= this.#freshUntil;
  }

  /** Starts a refresh when the keys are stale and no attempt is due to back off; never rejects. */
  refreshIfStale(now: number): void {
    if (this.#refreshDue(now)) void this.#refresh(now);
  }

  /**
   * The key for `kid` at `now` (epoch ms). Throws {@link IdTokenVerificationError} with
   * `unknown_key` or `keys_unavailable`.
   */
  async getKey(kid: string, now: number): Promise<CryptoKey> {
    if (this.#refreshDue(now)) await this.#refresh(now);
    const keys = this.#keys;
    if (keys === undefined) {
      throw new IdTokenVerificationError(
        'keys_unavailable',
        'no signing keys could be loaded from the JWKS endpoint',
        {
          cause: this.#lastError,
        },
      );
    }
    const key = keys.get(kid);
    if (key !== undefined) return key;
    if (this.#inflight !== undefined || now - this.#lastAttemptAt >= UNKNOWN_KID_COOLDOWN_MS) {
      await this.#refresh(now);
      const refreshed = this.#keys?.get(kid);
      if (refreshed !== undefined) return refreshed;
    }
    throw new IdTokenVerificationError('unknown_key', 'header kid names no published signing key');
  }

  #refreshDue(now: number): boolean {
    return this.isStale(now) && now - this.#lastFailureAt >= FAILED_FETCH_RETRY_MS;
  }

  #refresh(now: number): Promise<void> {
    this.#inflight ??= this.#load(now).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(now: number): Promise<void> {
    this.#lastAttemptAt = now;
    this.#stats.fetches++;
    try {
      const response = await this.#fetch(this.url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: {accept: 'application/json'},
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`JWKS endpoint answered HTTP ${response.status}`);
      }
      const text = await response.text();
      if (text.length > MAX_JWKS_BODY) throw new Error('JWKS response is too large');
      const keys = await importRs256Keys(JSON.parse(text) as unknown);
      this.#keys = keys;
      this.#freshUntil = now + freshnessMs(response.headers);
      this.#lastError = undefined;
    } catch (error) {
      this.#stats.failures++;
      this.#lastFailureAt = now;
      this.#lastError = error;
    }
  }
}

async function importRs256Keys(body: unknown): Promise<Map<string, CryptoKey>> {
  const list =
    body !== null && typeof body === 'object' ? (body as {keys?: unknown}).keys : undefined;
  if (!Array.isArray(list)) throw new Error('JWKS response has no keys array');
  const entries = await Promise.all(
    list.map(async (jwk: unknown): Promise<[string, CryptoKey] | undefined> => {
      if (jwk === null || typeof jwk !== 'object') return undefined;
      const {kty, kid, alg, use, n, e} = jwk as Record<string, unknown>;
      if (kty !== 'RSA' || typeof kid !== 'string' || kid === '') return undefined;
      if (alg !== undefined && alg !== 'RS256') return undefined;
      if (use !== undefined && use !== 'sig') return undefined;
      if (typeof n !== 'string' || typeof e !== 'string') return undefined;
      try {
        const key = await importJWK({kty, n, e}, 'RS256');
        return key instanceof Uint8Array ? undefined : [kid, key];
      } catch {
        return undefined;
      }
    }),
  );
  const keys = new Map<string, CryptoKey>();
  for (const entry of entries) if (entry) keys.set(entry[0], entry[1]);
  if (keys.size === 0) throw new Error('JWKS response has no usable RS256 key');
  return keys;
}

/** Freshness from `Cache-Control: max-age` minus `Age`, bounded; the default when absent. */
function freshnessMs(headers: Headers): number {
  const cacheControl = headers.get('cache-control') ?? '';
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i.test(cacheControl)) return MIN_MAX_AGE_MS;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  if (!match?.[1]) return DEFAULT_JWKS_MAX_AGE_MS;
  const age = Number(headers.get('age') ?? '0');
  const seconds = Number(match[1]) - (Number.isFinite(age) && age > 0 ? age : 0);
  return Math.min(MAX_MAX_AGE_MS, Math.max(MIN_MAX_AGE_MS, seconds * 1000));
}

const shared = new Map<string, JwksKeySet>();

/**
 * The process-wide key set for `url` (and request timeout), created on first use, so every
 * verifier of a process pointed at the same JWKS shares keys, cooldown and requests.
 */
export function sharedJwksKeySet(url: string, timeoutMs: number): JwksKeySet {
  const id = `${timeoutMs} ${url}`;
  let set = shared.get(id);
  if (set === undefined) {
    set = new JwksKeySet({url, timeoutMs});
    shared.set(id, set);
  }
  return set;
}
