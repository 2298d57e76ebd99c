import type {IapJwtClaims} from './iap-jwt-claims.js';
import type {ResolvedIapOptions, VerifyIapJwtOptions} from './iap-options.js';
import {resolveIapOptions} from './iap-options.js';
import {JwksKeySet, sharedJwksKeySet} from './jwks-key-set.js';
import {createSignedJwtVerifier} from './signed-jwt-verifier.js';

/** A reusable IAP assertion verifier (see {@link createIapJwtVerifier}). */
export type IapJwtVerifier = (assertion: string) => Promise<IapJwtClaims>;

/**
 * Builds a verifier for the assertion IAP signs for its backend (`x-goog-iap-jwt-assertion`),
 * with fixed options (validated now; a bad option is a TypeError): ES256 only, a key by `kid`
 * from IAP's published JWK set, issuer `https://cloud.google.com/iap`, the configured audience,
 * `iat`/`exp` with 30 seconds of skew, at most 11 minutes of lifetime, and the optional email
 * rules. Refusals are {@link IdTokenVerificationError}s with the same codes as ID tokens.
 *
 * @example
 * const verifyIap = createIapJwtVerifier({audience: '/projects/123456789012/global/backendServices/987654321'});
 * const {email, sub} = await verifyIap(String(req.headers['x-goog-iap-jwt-assertion']));
 */
export function createIapJwtVerifier(options: VerifyIapJwtOptions): IapJwtVerifier {
  const check = iapJwtCheck(resolveIapOptions(options));
  return (assertion) => check(assertion, false);
}

/** The IAP check for resolved options; internal. */
export function iapJwtCheck(resolved: ResolvedIapOptions) {
  const keySet = resolved.shareKeySet
    ? sharedJwksKeySet(resolved.jwksUrl, 'ES256', resolved.jwksTimeoutMs)
    : new JwksKeySet({
        url: resolved.jwksUrl,
        algorithm: 'ES256',
        ...(resolved.fetch ? {fetch: resolved.fetch} : {}),
        timeoutMs: resolved.jwksTimeoutMs,
      });
  return createSignedJwtVerifier<IapJwtClaims>({
    algorithm: 'ES256',
    keySet,
    rules: resolved,
    now: resolved.now,
    cacheMaxEntries: resolved.verifiedCacheMaxEntries,
    removedSignatureRefusal: 'signature is missing: IAP always signs its assertion',
  });
}

const verifiers = new WeakMap<VerifyIapJwtOptions, IapJwtVerifier>();

/**
 * Verifies the assertion IAP adds to every request it lets through
 * (`x-goog-iap-jwt-assertion`): ES256 with IAP's published keys, issuer
 * `https://cloud.google.com/iap`, the audience of this backend, time. Resolves with the claims
 * (`email` and `sub` name the user); rejects with an {@link IdTokenVerificationError}. This is
 * the identity to trust behind IAP: IAP passes `Authorization` through unchecked when it
 * checked `Proxy-Authorization`, and its unsigned `x-goog-authenticated-user-*` headers can be
 * forged by anything that reaches the backend around IAP.
 *
 * One verifier is kept per options object (read on first use), as {@link verifyGoogleIdToken}.
 *
 * @example
 * const options = {audience: '/projects/123456789012/global/backendServices/987654321'};
 * const claims = await verifyIapJwt(String(req.headers['x-goog-iap-jwt-assertion']), options);
 * const user = claims.email ?? claims.sub;
 */
export function verifyIapJwt(
  assertion: string,
  options: VerifyIapJwtOptions,
): Promise<IapJwtClaims> {
  let verify = options !== null && typeof options === 'object' ? verifiers.get(options) : undefined;
  if (verify === undefined) {
    verify = createIapJwtVerifier(options);
    verifiers.set(options, verify);
  }
  return verify(assertion);
}
