import type {FetchLike} from '../tokens/google-routing.js';
import {googleJwksUrl} from '../tokens/google-routing.js';

/**
 * Options of {@link verifyGoogleIdToken}, {@link createIdTokenVerifier},
 * {@link googleIdTokenVerifier} and {@link requireGoogleIdToken}. Validated once, when the
 * verifier is built; a bad option is a `TypeError` naming it.
 */
export interface VerifyGoogleIdTokenOptions {
  /**
   * The audience (or audiences) this service accepts: the token's `aud` must equal one of
   * them exactly. For Cloud Run that is the service URL (origin) or a custom audience; for
   * IAP the OAuth client id; for Cloud Run functions the full function URL. Required.
   */
  audience: string | readonly string[];
  /**
   * Accepted `iss` values. Default is `['https://accounts.google.com', 'accounts.google.com']`,
   * the two forms Google uses.
   */
  issuers?: readonly string[];
  /**
   * Where the signing keys are published (a JWKS). Default is Google's
   * `https://www.googleapis.com/oauth2/v3/certs`, or the emulator's when
   * `GOOGLE_AUTH_EMULATOR_HOST` is set. Must be `https:`, or `http:` on a loopback host.
   */
  jwksUrl?: string;
  /** Allowed clock skew for `iat`, `nbf` and `exp`, in seconds. Default is 300 (5 minutes), as Google's libraries. */
  clockToleranceSeconds?: number;
  /**
   * Longest accepted token lifetime, in seconds, measured as `exp - iat` and as `exp - now`.
   * Default is 86400 (1 day).
   */
  maxTokenLifetimeSeconds?: number;
  /** Only these principals (compared case-insensitively with the `email` claim) are allowed. Default is anyone. */
  allowedEmails?: readonly string[];
  /**
   * Only principals whose `email` is in one of these domains (exact domain after `@`,
   * case-insensitive, no subdomains; e.g. `example.com`, `my-project.iam.gserviceaccount.com`)
   * are allowed. When both this and `allowedEmails` are set, matching either is enough.
   * Default is any domain.
   */
  allowedEmailDomains?: readonly string[];
  /**
   * Require `email_verified: true`. Default is true when `allowedEmails` or
   * `allowedEmailDomains` is set, else false.
   */
  requireEmailVerified?: boolean;
  /**
   * Accept a token whose signature segment is `SIGNATURE_REMOVED_BY_GOOGLE` (what Cloud Run
   * forwards to the container after it verified the token itself), checking its claims only.
   * Safe ONLY when the service requires authentication at Cloud Run's front (no
   * `allUsers` invoker), so that nothing reaches the container without Google's check;
   * otherwise anyone can forge such a token. Tokens that still carry a signature are verified
   * as usual. Default is false.
   */
  trustCloudRunFront?: boolean;
  /** The clock, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /**
   * The fetch used to load the JWKS. Default is the global `fetch`. A verifier given its own
   * `fetch` or `now` keeps its own key set; otherwise key sets are shared per `jwksUrl` in the process.
   */
  fetch?: FetchLike;
  /** Timeout of one JWKS request, in milliseconds. Default is 5000 (5 seconds). */
  jwksTimeoutMs?: number;
  /**
   * Most verified tokens remembered (keyed by SHA-256 of the token, until `exp`); the least
   * recently used go first. 0 turns the cache off. Default is 10000.
   */
  verifiedCacheMaxEntries?: number;
}

/** The issuers Google puts in ID tokens. */
export const GOOGLE_ISSUERS: readonly string[] = [
  'https://accounts.google.com',
  'accounts.google.com',
];

/** Options after validation and defaults; internal. */
export interface ResolvedVerifyOptions {
  readonly audiences: ReadonlySet<string>;
  readonly issuers: ReadonlySet<string>;
  readonly jwksUrl: string;
  readonly clockToleranceSeconds: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly allowedEmails: ReadonlySet<string> | undefined;
  readonly allowedEmailDomains: ReadonlySet<string> | undefined;
  readonly requireEmailVerified: boolean;
  readonly trustCloudRunFront: boolean;
  readonly now: () => number;
  readonly fetch: FetchLike | undefined;
  readonly jwksTimeoutMs: number;
  readonly verifiedCacheMaxEntries: number;
  /** True when the key set may be shared with other verifiers (no injected fetch or clock). */
  readonly shareKeySet: boolean;
}

const NAME = 'VerifyGoogleIdTokenOptions';

function stringList(option: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `${NAME}.${option} must be a non-empty string or a non-empty array of non-empty strings`,
    );
  }
  for (const item of list) {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new TypeError(`${NAME}.${option} must contain only non-empty strings`);
    }
  }
  return list as string[];
}

function optionalList(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${NAME}.${option} must be a non-empty array of strings when set`);
  }
  return stringList(option, value);
}

function nonNegative(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${NAME}.${option} must be a finite number >= 0`);
  }
  return value;
}

function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new TypeError(`${NAME}.${option} must be a boolean`);
  return value;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function jwksUrlOption(value: unknown): string {
  if (value === undefined) return googleJwksUrl();
  if (typeof value !== 'string') throw new TypeError(`${NAME}.jwksUrl must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${NAME}.jwksUrl must be an absolute URL`);
  }
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url.href;
  throw new TypeError(`${NAME}.jwksUrl must use https: (http: only on a loopback host)`);
}

/** Validates options and applies defaults; throws a TypeError naming the bad option. */
export function resolveVerifyOptions(options: VerifyGoogleIdTokenOptions): ResolvedVerifyOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${NAME} must be an object with at least {audience}`);
  }
  if (options.audience === undefined) {
    throw new TypeError(
      `${NAME}.audience is required: the service URL, custom audience or OAuth client id the tokens are minted for`,
    );
  }
  const audiences = stringList('audience', options.audience);
  const issuers =
    options.issuers === undefined ? GOOGLE_ISSUERS : stringList('issuers', options.issuers);
  const allowedEmails = optionalList('allowedEmails', options.allowedEmails);
  const allowedEmailDomains = optionalList('allowedEmailDomains', options.allowedEmailDomains);
  for (const domain of allowedEmailDomains ?? []) {
    if (domain.includes('@')) {
      throw new TypeError(
        `${NAME}.allowedEmailDomains takes bare domains such as example.com, without '@'`,
      );
    }
  }
  const requireEmailVerified = optionalBoolean(
    'requireEmailVerified',
    options.requireEmailVerified,
  );
  const trustCloudRunFront =
    optionalBoolean('trustCloudRunFront', options.trustCloudRunFront) ?? false;
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`${NAME}.now must be a function returning epoch milliseconds`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError(`${NAME}.fetch must be a fetch-compatible function`);
  }
  const cacheEntries = nonNegative(
    'verifiedCacheMaxEntries',
    options.verifiedCacheMaxEntries,
    10_000,
  );
  if (!Number.isInteger(cacheEntries)) {
    throw new TypeError(`${NAME}.verifiedCacheMaxEntries must be an integer >= 0`);
  }
  const jwksTimeoutMs = nonNegative('jwksTimeoutMs', options.jwksTimeoutMs, 5000);
  if (jwksTimeoutMs === 0) throw new TypeError(`${NAME}.jwksTimeoutMs must be > 0`);
  return {
    audiences: new Set(audiences),
    issuers: new Set(issuers),
    jwksUrl: jwksUrlOption(options.jwksUrl),
    clockToleranceSeconds: nonNegative('clockToleranceSeconds', options.clockToleranceSeconds, 300),
    maxTokenLifetimeSeconds: nonNegative(
      'maxTokenLifetimeSeconds',
      options.maxTokenLifetimeSeconds,
      86_400,
    ),
    allowedEmails: allowedEmails && new Set(allowedEmails.map((email) => email.toLowerCase())),
    allowedEmailDomains:
      allowedEmailDomains && new Set(allowedEmailDomains.map((domain) => domain.toLowerCase())),
    requireEmailVerified:
      requireEmailVerified ?? (allowedEmails !== undefined || allowedEmailDomains !== undefined),
    trustCloudRunFront,
    now: options.now ?? Date.now,
    fetch: options.fetch,
    jwksTimeoutMs,
    verifiedCacheMaxEntries: cacheEntries,
    shareKeySet: options.now === undefined && options.fetch === undefined,
  };
}
