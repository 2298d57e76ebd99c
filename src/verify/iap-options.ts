import type {FetchLike} from './fetch-like.js';
import {IAP_JWKS_URL, keyUrlOption} from './key-urls.js';
import type {CommonResolved} from './option-checks.js';
import {resolveCommonOptions, stringList} from './option-checks.js';

/**
 * Options of {@link verifyIapJwt} and {@link createIapJwtVerifier} (and of
 * {@link requireGoogleIdToken} with `front: 'iap'`). Validated once, when the verifier is
 * built; a bad option is a `TypeError` naming it.
 */
export interface VerifyIapJwtOptions {
  /**
   * The audience IAP signs for this backend: `/projects/NUMBER/global/backendServices/ID`
   * behind a load balancer, `/projects/NUMBER/apps/PROJECT_ID` on App Engine (Security >
   * Identity-Aware Proxy > the resource's menu > Get JWT audience code). Not the OAuth client
   * id: that is the audience of the ID token the caller sent to IAP. Required.
   */
  audience: string | readonly string[];
  /**
   * Where IAP's signing keys are published (a JWK set of ES256 keys): the trust anchor.
   * Default is `https://www.gstatic.com/iap/verify/public_key-jwk`. Must be `https:`, or
   * `http:` on a loopback host (the emulator's `iapJwksUrl`).
   */
  jwksUrl?: string;
  /** Allowed clock skew for `iat` and `exp`, in seconds. Default is 30, as Google documents for IAP. */
  clockToleranceSeconds?: number;
  /**
   * Longest accepted lifetime, in seconds, as `exp - iat` and `exp - now`. Default is 660
   * (IAP's 10 minutes plus twice the skew).
   */
  maxTokenLifetimeSeconds?: number;
  /** Only these users (compared case-insensitively with the `email` claim) are allowed. Default is anyone IAP let in. */
  allowedEmails?: readonly string[];
  /** Only users whose `email` is in one of these domains (exact, case-insensitive) are allowed. Default is any domain. */
  allowedEmailDomains?: readonly string[];
  /** The clock, in epoch milliseconds. Default is `Date.now`. */
  now?: () => number;
  /** The fetch used to load the keys. Default is the global `fetch`; an injected one (or `now`) gives the verifier its own key set. */
  fetch?: FetchLike;
  /** Timeout of one key-set request, in milliseconds. Default is 5000 (5 seconds). */
  jwksTimeoutMs?: number;
  /** Most verified assertions remembered (SHA-256 of the assertion to claims, until `exp`). 0 turns it off. Default is 10000. */
  verifiedCacheMaxEntries?: number;
}

/** The issuer of every IAP assertion. */
export const IAP_ISSUER = 'https://cloud.google.com/iap';

/** IAP options after validation and defaults; internal. */
export interface ResolvedIapOptions extends CommonResolved {
  readonly audiences: ReadonlySet<string>;
  readonly issuers: ReadonlySet<string>;
  readonly jwksUrl: string;
  readonly requireEmailVerified: false;
}

const NAME = 'VerifyIapJwtOptions';

/** Validates IAP options and applies defaults; throws a TypeError naming the bad option. */
export function resolveIapOptions(
  options: VerifyIapJwtOptions,
  owner: string = NAME,
): ResolvedIapOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner} must be an object with at least {audience}`);
  }
  if (options.audience === undefined) {
    throw new TypeError(
      `${owner}.audience is required: IAP's audience for this backend, /projects/NUMBER/global/backendServices/ID or /projects/NUMBER/apps/PROJECT_ID`,
    );
  }
  const audiences = stringList(owner, 'audience', options.audience);
  for (const audience of audiences) {
    if (!/^\/projects\/[^/\s]+\/\S+$/.test(audience)) {
      throw new TypeError(
        `${owner}.audience must be IAP's signed-header audience, /projects/NUMBER/global/backendServices/ID or /projects/NUMBER/apps/PROJECT_ID; ` +
          'an OAuth client id or a URL is the audience of the ID token sent to IAP, not of the assertion IAP signs',
      );
    }
  }
  const common = resolveCommonOptions(owner, options, {
    clockToleranceSeconds: 30,
    maxTokenLifetimeSeconds: 660,
  });
  return {
    ...common,
    audiences: new Set(audiences),
    issuers: new Set([IAP_ISSUER]),
    jwksUrl: keyUrlOption(owner, 'jwksUrl', options.jwksUrl, IAP_JWKS_URL),
    requireEmailVerified: false,
  };
}
