import type {FetchLike} from './fetch-like.js';

/**
 * Validation shared by the verifiers' options: each check throws a TypeError that names the
 * owner and the option.
 */

/** A string or a non-empty array of non-empty strings, as an array. */
export function stringList(owner: string, option: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `${owner}.${option} must be a non-empty string or a non-empty array of non-empty strings`,
    );
  }
  for (const item of list) {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new TypeError(`${owner}.${option} must contain only non-empty strings`);
    }
  }
  return list as string[];
}

/** An optional non-empty array of non-empty strings. */
export function optionalList(owner: string, option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${owner}.${option} must be a non-empty array of strings when set`);
  }
  return stringList(owner, option, value);
}

/** A finite number >= 0, or `fallback` when undefined. */
export function nonNegative(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${owner}.${option} must be a finite number >= 0`);
  }
  return value;
}

/** An optional boolean. */
export function optionalBoolean(
  owner: string,
  option: string,
  value: unknown,
): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new TypeError(`${owner}.${option} must be a boolean`);
  return value;
}

/** The options every verifier shares, after validation. */
export interface CommonResolved {
  readonly clockToleranceSeconds: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly allowedEmails: ReadonlySet<string> | undefined;
  readonly allowedEmailDomains: ReadonlySet<string> | undefined;
  readonly now: () => number;
  readonly fetch: FetchLike | undefined;
  readonly jwksTimeoutMs: number;
  readonly verifiedCacheMaxEntries: number;
  /** True when the key set may be shared with other verifiers (no injected fetch or clock). */
  readonly shareKeySet: boolean;
}

/** The options every verifier shares, as given. */
export interface CommonOptions {
  clockToleranceSeconds?: number;
  maxTokenLifetimeSeconds?: number;
  allowedEmails?: readonly string[];
  allowedEmailDomains?: readonly string[];
  now?: () => number;
  fetch?: FetchLike;
  jwksTimeoutMs?: number;
  verifiedCacheMaxEntries?: number;
}

/** Validates the shared options; `defaults` gives the clock tolerance and the longest lifetime. */
export function resolveCommonOptions(
  owner: string,
  options: CommonOptions,
  defaults: {clockToleranceSeconds: number; maxTokenLifetimeSeconds: number},
): CommonResolved {
  const allowedEmails = optionalList(owner, 'allowedEmails', options.allowedEmails);
  const allowedEmailDomains = optionalList(
    owner,
    'allowedEmailDomains',
    options.allowedEmailDomains,
  );
  for (const domain of allowedEmailDomains ?? []) {
    if (domain.includes('@')) {
      throw new TypeError(
        `${owner}.allowedEmailDomains takes bare domains such as example.com, without '@'`,
      );
    }
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`${owner}.now must be a function returning epoch milliseconds`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError(`${owner}.fetch must be a fetch-compatible function`);
  }
  const cacheEntries = nonNegative(
    owner,
    'verifiedCacheMaxEntries',
    options.verifiedCacheMaxEntries,
    10_000,
  );
  if (!Number.isInteger(cacheEntries)) {
    throw new TypeError(`${owner}.verifiedCacheMaxEntries must be an integer >= 0`);
  }
  const jwksTimeoutMs = nonNegative(owner, 'jwksTimeoutMs', options.jwksTimeoutMs, 5000);
  if (jwksTimeoutMs === 0) throw new TypeError(`${owner}.jwksTimeoutMs must be > 0`);
  return {
    clockToleranceSeconds: nonNegative(
      owner,
      'clockToleranceSeconds',
      options.clockToleranceSeconds,
      defaults.clockToleranceSeconds,
    ),
    maxTokenLifetimeSeconds: nonNegative(
      owner,
      'maxTokenLifetimeSeconds',
      options.maxTokenLifetimeSeconds,
      defaults.maxTokenLifetimeSeconds,
    ),
    allowedEmails: allowedEmails && new Set(allowedEmails.map((email) => email.toLowerCase())),
    allowedEmailDomains:
      allowedEmailDomains && new Set(allowedEmailDomains.map((domain) => domain.toLowerCase())),
    now: options.now ?? Date.now,
    fetch: options.fetch,
    jwksTimeoutMs,
    verifiedCacheMaxEntries: cacheEntries,
    shareKeySet: options.now === undefined && options.fetch === undefined,
  };
}
