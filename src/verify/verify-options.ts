import type {FetchLike} from './fetch-like.js';
import {GOOGLE_JWKS_URL, keyUrlOption, warnIfEmulatorHostIgnored} from './key-urls.js';
import type {CommonResolved} from './option-checks.js';
import {optionalBoolean, resolveCommonOptions, stringList} from './option-checks.js';

/**
 * Options of {@link verifyGoogleIdToken}, {@link createIdTokenVerifier} and
 * {@link googleIdTokenVerifier} (and, with `front`, of {@link requireGoogleIdToken}). Validated
 * once, when the verifier is built; a bad option is a `TypeError` naming it.
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
   * Where the signing keys are published (a JWK set): the verifier's trust anchor. Default is
   * Google's `https://www.googleapis.com/oauth2/v3/certs`, whatever the environment says
   * (`GOOGLE_AUTH_EMULATOR_HOST` is ignored here, with a one-time warning). Must be `https:`,
   * or `http:` on a loopback host (the emulator's `jwksUrl`).
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
  /** The clock, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /**
   * The fetch used to load the JWK set. Default is the global `fetch`. A verifier given its own
   * `fetch` or `now` keeps its own key set; otherwise key sets are shared per `jwksUrl` in the process.
   */
  fetch?: FetchLike;
  /** Timeout of one JWK set request, in milliseconds. Default is 5000 (5 seconds). */
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

/** ID-token options after validation and defaults; internal. */
export interface ResolvedVerifyOptions extends CommonResolved {
  readonly audiences: ReadonlySet<string>;
  readonly issuers: ReadonlySet<string>;
  readonly jwksUrl: string;
  readonly requireEmailVerified: boolean;
}

const NAME = 'VerifyGoogleIdTokenOptions';

/**
 * Options that only the request middleware may honour: a function that sees a token, not the
 * request it came in, cannot know which header the front checked.
 */
function refuseFrontOptions(options: Record<string, unknown>, owner: string): void {
  if (options.trustCloudRunFront !== undefined && options.trustCloudRunFront !== false) {
    throw new TypeError(
      `${owner}.trustCloudRunFront is refused here: ${owner.replace(/Options$/, '')} sees a token, not which header Cloud Run checked, ` +
        "so a caller could put a forged token with a removed signature in Authorization while Cloud Run checked X-Serverless-Authorization. Use requireGoogleIdToken({front: 'cloud-run', ...}), " +
        'which reads the header the front verified (the MCP SDK transports read the req.auth it sets), or drop the option to verify signatures.',
    );
  }
  if (options.front !== undefined) {
    throw new TypeError(
      `${owner}.front is an option of requireGoogleIdToken only, which sees the request's headers; remove it here`,
    );
  }
}

/**
 * Validates ID-token options and applies defaults; throws a TypeError naming the bad option.
 * `owner` names the options type in messages.
 */
export function resolveVerifyOptions(
  options: VerifyGoogleIdTokenOptions,
  owner: string = NAME,
): ResolvedVerifyOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner} must be an object with at least {audience}`);
  }
  refuseFrontOptions(options as unknown as Record<string, unknown>, owner);
  if (options.audience === undefined) {
    throw new TypeError(
      `${owner}.audience is required: the service URL, custom audience or OAuth client id the tokens are minted for`,
    );
  }
  const audiences = stringList(owner, 'audience', options.audience);
  const issuers =
    options.issuers === undefined ? GOOGLE_ISSUERS : stringList(owner, 'issuers', options.issuers);
  const requireEmailVerified = optionalBoolean(
    owner,
    'requireEmailVerified',
    options.requireEmailVerified,
  );
  const common = resolveCommonOptions(owner, options, {
    clockToleranceSeconds: 300,
    maxTokenLifetimeSeconds: 86_400,
  });
  const jwksUrl = keyUrlOption(owner, 'jwksUrl', options.jwksUrl, GOOGLE_JWKS_URL);
  if (options.jwksUrl === undefined) warnIfEmulatorHostIgnored();
  return {
    ...common,
    audiences: new Set(audiences),
    issuers: new Set(issuers),
    jwksUrl,
    requireEmailVerified:
      requireEmailVerified ??
      (common.allowedEmails !== undefined || common.allowedEmailDomains !== undefined),
  };
}
