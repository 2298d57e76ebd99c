import {createPublicKey} from 'node:crypto';
import type {JsonWebKey, KeyObject} from 'node:crypto';
import type {FetchLike} from './fetch-like.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import type {JwsAlgorithm} from './jws.js';

/** Shortest time between two key-set requests caused by an unknown `kid`, in milliseconds. */
export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** Shortest time between a failed key-set request and the next attempt, in milliseconds. */
export const FAILED_FETCH_RETRY_MS = 5_000;
/** Freshness of a key-set response without `Cache-Control: max-age`, in milliseconds. */
export const DEFAULT_JWKS_MAX_AGE_MS = 300_000;
/** Bounds applied to `max-age`, in milliseconds: at least the cooldown, at most one day. */
const MIN_MAX_AGE_MS = UNKNOWN_KID_COOLDOWN_MS;
const MAX_MAX_AGE_MS = 86_400_000;
/** Largest key-set body accepted, in characters. */
const MAX_JWKS_BODY = 256 * 1024;
/** Most keys taken from one response, and most held at once (current and retained). */
const MAX_KEYS_PER_RESPONSE = 64;
const MAX_KEYS_HELD = 128;

/** Options of {@link JwksKeySet}. */
export interface JwksKeySetOptions {
  /** The JWK set URL. */
  url: string;
  /** The only algorithm its keys are used for; keys of another type are skipped. */
  algorithm: JwsAlgorithm;
  /** The fetch to use. Default is the global `fetch`. */
  fetch?: FetchLike;
  /** Timeout of one request, in milliseconds. Default is 5000. */
  timeoutMs?: number;
}

/** Counters of a {@link JwksKeySet}, for tests and benchmarks. */
export interface JwksKeySetStats {
  /** Key-set requests started. */
  fetches: number;
  /** Key-set requests that failed (network, status, body or no usable key). */
  failures: number;
}

/** One published key, imported once. */
interface KeyEntry {
  readonly key: KeyObject;
  /** Until when the publisher vouches for it: the last response that listed it, plus its max-age. */
  readonly listedUntil: number;
  /**
   * Until when it may still serve while the endpoint fails (stale-if-error): one more max-age.
   * A key the publisher stopped listing gets no such grace.
   */
  readonly staleUntil: number;
}

/**
 * Signing keys from a JWK set URL, as `node:crypto` `KeyObject`s cached per `kid`.
 *
 * - Freshness follows `Cache-Control: max-age` (minus `Age`), bounded to [30 s, 1 day],
 *   5 minutes when absent.
 * - Rotation: a `kid` it has not seen causes one refetch (shared by concurrent callers); such
 *   refetches happen at most once per 30 seconds, so a flood of made-up `kid`s costs one
 *   request per 30 seconds. A key that disappears from the set stays usable until the max-age
 *   of the last response that listed it, so tokens signed just before a swap keep verifying.
 * - Outage: when a refresh fails, keys keep serving for one more max-age past their listing
 *   (retrying at most every 5 seconds, in the background); past that, or with nothing ever
 *   loaded, lookups fail closed with `keys_unavailable`.
 *
 * The clock is passed on each call, so one set can serve verifiers with injected clocks.
 */
export class JwksKeySet {
  readonly url: string;
  readonly algorithm: JwsAlgorithm;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #keys = new Map<string, KeyEntry>();
  #freshUntil = Number.NEGATIVE_INFINITY;
  #failing = false;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  #lastError: unknown;
  #inflight: Promise<void> | undefined;
  readonly #stats: JwksKeySetStats = {fetches: 0, failures: 0};

  constructor(options: JwksKeySetOptions) {
    this.url = options.url;
    this.algorithm = options.algorithm;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** A copy of the counters. */
  get stats(): JwksKeySetStats {
    return {...this.#stats};
  }

  /** The key for `kid` if it may be used at `now` without asking the endpoint. */
  usable(kid: string, now: number): KeyObject | undefined {
    const entry = this.#keys.get(kid);
    if (entry === undefined) return undefined;
    if (now < entry.listedUntil || (this.#failing && now < entry.staleUntil)) return entry.key;
    return undefined;
  }

  /** Starts a background refresh when the keys are stale and no back-off applies; never rejects. */
  maintain(now: number): void {
    if (now >= this.#freshUntil && this.#mayRetry(now) && this.#inflight === undefined) {
      void this.#refresh(now);
    }
  }

  /**
   * The key for `kid` at `now` (epoch ms), fetching the set when needed. Throws
   * {@link IdTokenVerificationError} with `unknown_key` or `keys_unavailable`.
   */
  async getKey(kid: string, now: number): Promise<KeyObject> {
    const cached = this.usable(kid, now);
    if (cached !== undefined) {
      this.maintain(now);
      return cached;
    }
    if (this.#inflight !== undefined) {
      await this.#inflight;
    } else if (now >= this.#freshUntil) {
      if (this.#mayRetry(now)) await this.#refresh(now);
    } else if (now - this.#lastUnknownKidFetchAt >= UNKNOWN_KID_COOLDOWN_MS) {
      this.#lastUnknownKidFetchAt = now;
      await this.#refresh(now);
    }
    const key = this.usable(kid, now);
    if (key !== undefined) return key;
    if (!this.#anyUsable(now)) {
      throw new IdTokenVerificationError(
        'keys_unavailable',
        'no signing keys could be loaded from the key set endpoint',
        {cause: this.#lastError},
      );
    }
    throw new IdTokenVerificationError('unknown_key', 'header kid names no published signing key');
  }

  #mayRetry(now: number): boolean {
    return !this.#failing || now - this.#lastFailureAt >= FAILED_FETCH_RETRY_MS;
  }

  #anyUsable(now: number): boolean {
    for (const kid of this.#keys.keys()) if (this.usable(kid, now) !== undefined) return true;
    return false;
  }

  #refresh(now: number): Promise<void> {
    this.#inflight ??= this.#load(now).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(now: number): Promise<void> {
    this.#stats.fetches++;
    try {
      const response = await this.#fetch(this.url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: {accept: 'application/json'},
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`key set endpoint answered HTTP ${response.status}`);
      }
      const text = await response.text();
      if (text.length > MAX_JWKS_BODY) throw new Error('key set response is too large');
      const imported = importKeys(JSON.parse(text) as unknown, this.algorithm);
      const freshness = freshnessMs(response.headers);
      this.#install(imported, now, freshness);
      this.#freshUntil = now + freshness;
      this.#failing = false;
      this.#lastError = undefined;
    } catch (error) {
      this.#stats.failures++;
      this.#failing = true;
      this.#lastFailureAt = now;
      this.#lastError = error;
    }
  }

  /** Takes the listed keys; keeps unlisted ones only until their last listing runs out. */
  #install(listed: Map<string, KeyObject>, now: number, freshness: number): void {
    for (const [kid, entry] of this.#keys) {
      if (listed.has(kid)) continue;
      if (now >= entry.listedUntil) this.#keys.delete(kid);
      else if (entry.staleUntil !== entry.listedUntil) {
        this.#keys.set(kid, {...entry, staleUntil: entry.listedUntil});
      }
    }
    for (const [kid, key] of listed) {
      this.#keys.delete(kid);
      this.#keys.set(kid, {key, listedUntil: now + freshness, staleUntil: now + 2 * freshness});
    }
    // Retained keys were inserted first; beyond the bound they go first.
    for (const kid of this.#keys.keys()) {
      if (this.#keys.size <= MAX_KEYS_HELD) break;
      this.#keys.delete(kid);
    }
  }
}

/** The usable keys of a JWK set body for `algorithm`; throws when there is none. */
function importKeys(body: unknown, algorithm: JwsAlgorithm): Map<string, KeyObject> {
  const list =
    body !== null && typeof body === 'object' ? (body as {keys?: unknown}).keys : undefined;
  if (!Array.isArray(list)) throw new Error('key set response has no keys array');
  const keys = new Map<string, KeyObject>();
  for (const jwk of list.slice(0, MAX_KEYS_PER_RESPONSE)) {
    const imported = importKey(jwk, algorithm);
    if (imported) keys.set(imported[0], imported[1]);
  }
  if (keys.size === 0) throw new Error(`key set response has no usable ${algorithm} key`);
  return keys;
}

/** One JWK as `[kid, KeyObject]` when it is a public key fit for `algorithm`. */
function importKey(jwk: unknown, algorithm: JwsAlgorithm): [string, KeyObject] | undefined {
  if (jwk === null || typeof jwk !== 'object') return undefined;
  const {kty, kid, alg, use, n, e, crv, x, y, d} = jwk as Record<string, unknown>;
  if (typeof kid !== 'string' || kid === '' || d !== undefined) return undefined;
  if (alg !== undefined && alg !== algorithm) return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  let material: JsonWebKey;
  if (algorithm === 'RS256') {
    if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string') return undefined;
    material = {kty, n, e};
  } else {
    if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') {
      return undefined;
    }
    material = {kty, crv, x, y};
  }
  try {
    const key = createPublicKey({key: material, format: 'jwk'});
    if (algorithm === 'RS256') {
      // As jose and Google's own libraries: RSA keys under 2048 bits are refused.
      if (key.asymmetricKeyType !== 'rsa') return undefined;
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
    } else if (
      key.asymmetricKeyType !== 'ec' ||
      key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    ) {
      return undefined;
    }
    return [kid, key];
  } catch {
    return undefined;
  }
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
 * The process-wide key set for `url` (with its algorithm and request timeout), created on
 * first use, so every verifier of a process pointed at the same key set shares keys, cooldown
 * and requests.
 */
export function sharedJwksKeySet(
  url: string,
  algorithm: JwsAlgorithm,
  timeoutMs: number,
): JwksKeySet {
  const id = `${algorithm} ${timeoutMs} ${url}`;
  let set = shared.get(id);
  if (set === undefined) {
    set = new JwksKeySet({url, algorithm, timeoutMs});
    shared.set(id, set);
  }
  return set;
}
