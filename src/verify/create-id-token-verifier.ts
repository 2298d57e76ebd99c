import type {GoogleIdTokenClaims} from './google-id-token-claims.js';
import {JwksKeySet, sharedJwksKeySet} from './jwks-key-set.js';
import {createSignedJwtVerifier} from './signed-jwt-verifier.js';
import type {SignedJwtCheck} from './signed-jwt-verifier.js';
import type {ResolvedVerifyOptions, VerifyGoogleIdTokenOptions} from './verify-options.js';
import {resolveVerifyOptions} from './verify-options.js';

export {MAX_ID_TOKEN_LENGTH} from './signed-jwt-verifier.js';
export {SIGNATURE_REMOVED_BY_GOOGLE} from './jws.js';

/**
 * A reusable verifier: resolves with the claims of a valid token, rejects with an
 * {@link IdTokenVerificationError} otherwise.
 */
export type IdTokenVerifier = (token: string) => Promise<GoogleIdTokenClaims>;

/**
 * Builds a verifier for Google ID tokens with fixed options (validated now; a bad option is
 * a TypeError). It holds the key set (shared per `jwksUrl` in the process unless `fetch` or
 * `now` is injected) and a cache of verified tokens, so a repeated token costs a SHA-256
 * and a map lookup, and a new one about one RSA signature check. Only RS256 is accepted,
 * whatever the token's header says; the key is chosen by `kid`.
 *
 * A token whose signature Cloud Run replaced with `SIGNATURE_REMOVED_BY_GOOGLE` is refused
 * here: a token alone does not say which header the front checked. Behind Cloud Run use
 * {@link requireGoogleIdToken} with `front: 'cloud-run'`.
 *
 * @example
 * const verify = createIdTokenVerifier({audience: 'https://svc-abc.a.run.app'});
 * const claims = await verify(token); // throws IdTokenVerificationError
 */
export function createIdTokenVerifier(options: VerifyGoogleIdTokenOptions): IdTokenVerifier {
  const check = idTokenCheck(resolveVerifyOptions(options));
  return (token) => check(token, false);
}

/**
 * The ID-token check for resolved options; `frontChecked` (see {@link SignedJwtCheck}) is
 * set only by the request verifier, which knows the header. Internal.
 */
export function idTokenCheck(resolved: ResolvedVerifyOptions): SignedJwtCheck<GoogleIdTokenClaims> {
  const keySet = resolved.shareKeySet
    ? sharedJwksKeySet(resolved.jwksUrl, 'RS256', resolved.jwksTimeoutMs)
    : new JwksKeySet({
        url: resolved.jwksUrl,
        algorithm: 'RS256',
        ...(resolved.fetch ? {fetch: resolved.fetch} : {}),
        timeoutMs: resolved.jwksTimeoutMs,
      });
  return createSignedJwtVerifier<GoogleIdTokenClaims>({
    algorithm: 'RS256',
    keySet,
    rules: resolved,
    now: resolved.now,
    cacheMaxEntries: resolved.verifiedCacheMaxEntries,
    removedSignatureRefusal:
      "signature was removed by a Cloud Run front; only requireGoogleIdToken({front: 'cloud-run'}) accepts such a token, from the header Cloud Run checked",
  });
}
