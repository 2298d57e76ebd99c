import {McpGoogleAuthError, type IdTokenVerificationCode} from '../credentials/errors.js';

/**
 * Why a Google ID token (or an IAP assertion) was refused. The set is closed; each failure maps
 * to exactly one code.
 *
 * - `missing`: no token (absent, empty or whitespace-only header, `Bearer` with nothing after
 *   it; behind IAP, no `x-goog-iap-jwt-assertion`).
 * - `malformed`: not a compact JWS of three base64url segments with JSON objects inside, an
 *   unsupported `crit` header, or a required claim (`iss`, `aud`, `sub`, `iat`, `exp`) missing
 *   or of the wrong type.
 * - `too_large`: longer than 8 KB; refused before any parsing.
 * - `bad_signature`: the header's `alg` is not the configured one (`RS256`, or `ES256` for IAP),
 *   the header names or carries its own key (`jku`, `x5u`, `jwk`, `x5c`), the signature is
 *   missing or does not verify, or it was removed by a front that nothing here vouches for.
 * - `unknown_key`: the header has no `kid`, or no usable published key has that `kid`.
 * - `expired`: `exp` is in the past by more than the clock tolerance.
 * - `not_yet_valid`: `iat` (or `nbf`) is in the future by more than the clock tolerance.
 * - `lifetime_too_long`: `exp - iat` (or `exp - now`) exceeds `maxTokenLifetimeSeconds`.
 * - `bad_audience`: `aud` is not a string equal to one of the configured audiences.
 * - `bad_issuer`: `iss` is not one of the configured issuers.
 * - `forbidden_principal`: the token is valid but its email is unverified or not allowed.
 * - `keys_unavailable`: no valid signing key is at hand (the key endpoint failed and nothing
 *   was cached, or the cached keys are past their `max-age` plus one more while it fails);
 *   verification fails closed.
 */
export type {IdTokenVerificationCode};

/** Every {@link IdTokenVerificationCode}, in a stable order. */
export const ID_TOKEN_VERIFICATION_CODES: readonly IdTokenVerificationCode[] = [
  'missing',
  'malformed',
  'too_large',
  'bad_signature',
  'unknown_key',
  'expired',
  'not_yet_valid',
  'lifetime_too_long',
  'bad_audience',
  'bad_issuer',
  'forbidden_principal',
  'keys_unavailable',
];

/**
 * A Google ID token (or an IAP assertion) was refused. `code` says why (see {@link IdTokenVerificationCode}); the
 * message names the claim or the step, never the token. A lower error (from jose or the
 * network) is kept as `cause`.
 *
 * @example
 * try {
 *   await verifyGoogleIdToken(token, {audience: 'https://svc.example.com'});
 * } catch (error) {
 *   if (error instanceof IdTokenVerificationError && error.code === 'expired') {
 *     // ask the caller for a fresh token
 *   }
 * }
 */
export class IdTokenVerificationError extends McpGoogleAuthError {
  declare readonly code: IdTokenVerificationCode;

  constructor(code: IdTokenVerificationCode, message: string, options?: {cause?: unknown}) {
    super(code, message, options);
  }
}
