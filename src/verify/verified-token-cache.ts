import * as crypto from 'node:crypto';
import type {CheckedClaims} from './check-claims.js';

/** One remembered verification. */
export interface VerifiedEntry {
  /** The claims returned for the token (frozen). */
  readonly claims: CheckedClaims;
  /** The `kid` whose key verified the signature (the entry answers only while that key is usable). */
  readonly kid: string;
  /** Until when the entry may answer, in epoch ms (`exp` plus the clock tolerance). */
  readonly validUntilMs: number;
}

/** One-shot SHA-256 where Node has it (20.12+), else a Hash object. */
const sha256Base64: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'base64')
    : (text) => crypto.createHash('sha256').update(text).digest('base64');

/** The cache key of a token: its SHA-256, so the map never holds the token itself. */
export function verifiedCacheKey(token: string): string {
  return sha256Base64(token);
}

/**
 * Successful verifications, keyed by {@link verifiedCacheKey}, least recently used first out.
 * One cache belongs to one verifier, so its options (audience, issuers, email rules) are
 * fixed for every entry. Only successes of signed tokens are stored.
 */
export class VerifiedTokenCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, VerifiedEntry>();

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry for `key`, marked most recently used; undefined when absent. */
  get(key: string): VerifiedEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Stores a success, evicting the least recently used entry when full. */
  set(key: string, entry: VerifiedEntry): void {
    if (this.#maxEntries === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }
}
