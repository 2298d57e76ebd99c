/**
 * Server side: verify Google ID tokens. Every export here is public API.
 */
export {verifyGoogleIdToken} from './verify-google-id-token.js';
export {
  createIdTokenVerifier,
  MAX_ID_TOKEN_LENGTH,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from './create-id-token-verifier.js';
export type {IdTokenVerifier} from './create-id-token-verifier.js';
export {
  IdTokenVerificationError,
  ID_TOKEN_VERIFICATION_CODES,
} from './id-token-verification-error.js';
export type {IdTokenVerificationCode} from './id-token-verification-error.js';
export type {GoogleIdTokenClaims} from './google-id-token-claims.js';
export {GOOGLE_ISSUERS} from './verify-options.js';
export type {VerifyGoogleIdTokenOptions} from './verify-options.js';
export {googleIdTokenVerifier} from './google-id-token-verifier.js';
export type {GoogleIdTokenVerifierOptions} from './google-id-token-verifier.js';
export {requireGoogleIdToken, statusForVerificationCode} from './require-google-id-token.js';
export type {
  GoogleIdTokenMiddleware,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
} from './require-google-id-token.js';
export {toAuthInfo} from './auth-info.js';
export {readBearerToken} from './bearer-token.js';
export type {BearerTokenResult} from './bearer-token.js';
export {googleIdTokenUserBuilder} from './google-id-token-user-builder.js';
export type {
  A2aRequestLike,
  GoogleIdTokenA2aGuard,
  GoogleIdTokenUser,
  GoogleIdTokenUserBuilder,
  GoogleIdTokenUserBuilderOptions,
} from './google-id-token-user-builder.js';
