/**
 * mcp-google-auth: Google identity for agent tools.
 *
 * Every export here is public API; named exports only. Internals stay in their folders.
 */

// credentials: the ADK data model
export {AuthCredentialTypes} from './credentials/types.js';
export type {
  AuthCredential,
  AuthCredentialType,
  AuthScheme,
  HttpAuth,
  HttpCredentials,
  OAuth2Auth,
  ServiceAccount,
  ServiceAccountCredential,
} from './credentials/types.js';
export {parseAuthCredential, parseServiceAccount} from './credentials/parse.js';
export type {ParseAuthCredentialOptions} from './credentials/parse.js';
export {
  CredentialExchangeError,
  InvalidCredentialError,
  McpGoogleAuthError,
} from './credentials/errors.js';
export type {CredentialExchangeCode, McpGoogleAuthErrorCode} from './credentials/errors.js';

// tokens
export {TokenCache, defaultTokenCache} from './tokens/token-cache.js';
export type {TokenCacheOptions, TokenCacheStats} from './tokens/token-cache.js';
export type {
  CredentialDescription,
  CredentialKind,
  Token,
  TokenRequest,
  TokenSource,
} from './tokens/token-source.js';
export {tokenFingerprint} from './tokens/fingerprint.js';
export type {FetchLike} from './tokens/google-routing.js';

// exchange
export {
  DEFAULT_SCOPES,
  ServiceAccountCredentialExchanger,
} from './exchange/service-account-exchanger.js';
export type {
  ExchangeResult,
  ServiceAccountCredentialExchangerOptions,
} from './exchange/service-account-exchanger.js';

// http: a Google credential on every request
export {
  explainAuthFailure,
  googleAuthFetch,
  googleAuthProvider,
  googleOAuthClientProvider,
} from './http/index.js';
export type {
  AuthFailureContext,
  AuthHeaderMode,
  GoogleAuthFetchOptions,
  GoogleAuthProvider,
  GoogleAuthProviderOptions,
} from './http/index.js';

// mcp: ADK-compatible toolset
export {McpConnectionError, McpTool, McpToolError, McpToolset} from './mcp/index.js';
export type {
  McpConnectionParams,
  McpErrorCode,
  McpHeaderProvider,
  McpToolPredicate,
  McpToolRunRequest,
  McpToolsetOptions,
  SseConnectionParams,
  StdioConnectionParams,
  StreamableHTTPConnectionParams,
} from './mcp/index.js';

// verify: the server side
export {verifyGoogleIdToken} from './verify/verify-google-id-token.js';
export {
  createIdTokenVerifier,
  SIGNATURE_REMOVED_BY_GOOGLE,
} from './verify/create-id-token-verifier.js';
export type {IdTokenVerifier} from './verify/create-id-token-verifier.js';
export {
  IdTokenVerificationError,
  ID_TOKEN_VERIFICATION_CODES,
} from './verify/id-token-verification-error.js';
export type {IdTokenVerificationCode} from './verify/id-token-verification-error.js';
export type {GoogleIdTokenClaims} from './verify/google-id-token-claims.js';
export {GOOGLE_ISSUERS} from './verify/verify-options.js';
export type {VerifyGoogleIdTokenOptions} from './verify/verify-options.js';
export {googleIdTokenVerifier} from './verify/google-id-token-verifier.js';
export type {GoogleIdTokenVerifierOptions} from './verify/google-id-token-verifier.js';
export {requireGoogleIdToken} from './verify/require-google-id-token.js';
export type {
  GoogleIdTokenMiddleware,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
} from './verify/require-google-id-token.js';
