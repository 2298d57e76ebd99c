import type {IdTokenVerifier} from './create-id-token-verifier.js';
import {createIdTokenVerifier} from './create-id-token-verifier.js';
import type {GoogleIdTokenClaims} from './google-id-token-claims.js';
import type {VerifyGoogleIdTokenOptions} from './verify-options.js';

const verifiers = new WeakMap<VerifyGoogleIdTokenOptions, IdTokenVerifier>();

/**
 * Verifies a Google ID token: RS256 signature by a key Google publishes (chosen by `kid`),
 * issuer, audience, `iat`/`nbf`/`exp` with clock tolerance, lifetime, and the optional email
 * rules. Resolves with the typed claims; rejects with an {@link IdTokenVerificationError}
 * whose `code` says why. A bad option is a TypeError.
 *
 * One verifier is kept per options object (the object is read on its first use; later
 * changes to it are ignored), so calls that pass the same object share its verified-token
 * cache. {@link createIdTokenVerifier} makes that explicit and is the better fit for servers.
 *
 * @example
 * const options = {audience: 'https://svc-abc.a.run.app'};
 * const claims = await verifyGoogleIdToken(token, options);
 * const caller = claims.email ?? claims.sub;
 */
export function verifyGoogleIdToken(
  token: string,
  options: VerifyGoogleIdTokenOptions,
): Promise<GoogleIdTokenClaims> {
  let verify = options !== null && typeof options === 'object' ? verifiers.get(options) : undefined;
  if (verify === undefined) {
    verify = createIdTokenVerifier(options);
    verifiers.set(options, verify);
  }
  return verify(token);
}
