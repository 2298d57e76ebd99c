/**
 * Entry `mcp-google-auth/verify`: the server side. Verify Google ID tokens and IAP assertions,
 * guard a server (express/connect, node:http, the MCP SDK's `requireBearerAuth`). Importing it
 * loads no MCP client, no google-auth-library and no zod. Every export here is public API.
 */
export {verifyGoogleIdToken} from './verify-google-id-token.js';
export {
  createIdTokenVerifier,
  MAX_ID_TOKEN_LENGTH,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from './create-id-token-verifier.js';
export type {IdTokenVerifier} from './create-id-token-verifier.js';
export {verifyIapJwt, createIapJwtVerifier} from './verify-iap-jwt.js';
export type {IapJwtVerifier} from './verify-iap-jwt.js';
export type {VerifyIapJwtOptions} from './iap-options.js';
export type {IapJwtClaims} from './iap-jwt-claims.js';
export {
  IdTokenVerificationError,
  ID_TOKEN_VERIFICATION_CODES,
} from './id-token-verification-error.js';
export type {IdTokenVerificationCode} from './id-token-verification-error.js';
export type {GoogleIdTokenClaims} from './google-id-token-claims.js';
export {GOOGLE_ISSUERS} from './verify-options.js';
export type {VerifyGoogleIdTokenOptions} from './verify-options.js';
export {GOOGLE_JWKS_URL, IAP_JWKS_URL} from './key-urls.js';
export type {FetchLike} from './fetch-like.js';
export {googleIdTokenVerifier} from './google-id-token-verifier.js';
export type {
  GoogleBearerVerifier,
  GoogleIdTokenVerifierOptions,
} from './google-id-token-verifier.js';
export {requireGoogleIdToken, statusForVerificationCode} from './require-google-id-token.js';
export type {
  GoogleIdTokenMiddleware,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
} from './require-google-id-token.js';
export type {GoogleFront} from './request-verifier.js';
export {toAuthInfo} from './auth-info.js';
export type {GoogleAuthInfo} from './auth-info.js';
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
