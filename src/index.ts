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

// verify: the server side (also its own entry, `mcp-google-auth/verify`)
export {
  createIapJwtVerifier,
  createIdTokenVerifier,
  googleIdTokenVerifier,
  GOOGLE_ISSUERS,
  GOOGLE_JWKS_URL,
  IAP_JWKS_URL,
  ID_TOKEN_VERIFICATION_CODES,
  IdTokenVerificationError,
  requireGoogleIdToken,
  SIGNATURE_REMOVED_BY_GOOGLE,
  verifyGoogleIdToken,
  verifyIapJwt,
} from './verify/index.js';
export type {
  GoogleAuthInfo,
  GoogleBearerVerifier,
  GoogleFront,
  GoogleIdTokenClaims,
  GoogleIdTokenMiddleware,
  GoogleIdTokenVerifierOptions,
  IapJwtClaims,
  IapJwtVerifier,
  IdTokenVerificationCode,
  IdTokenVerifier,
  RequestWithAuth,
  RequireGoogleIdTokenOptions,
  VerifyGoogleIdTokenOptions,
  VerifyIapJwtOptions,
} from './verify/index.js';
