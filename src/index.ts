/**
 * mcp-google-auth: Google identity for agent tools.
 *
 * Every export here is public API; named exports only. Internals stay in their folders.
 */

// the client side: credentials, tokens and the authenticated fetch (also `mcp-google-auth/fetch`)
export * from './fetch.js';

// exchange
export {
  DEFAULT_SCOPES,
  ServiceAccountCredentialExchanger,
} from './exchange/service-account-exchanger.js';
export type {
  ExchangeResult,
  ServiceAccountCredentialExchangerOptions,
} from './exchange/service-account-exchanger.js';

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
export {googleIdTokenUserBuilder} from './verify/index.js';
export type {
  A2aRequestLike,
  GoogleIdTokenA2aGuard,
  GoogleIdTokenUser,
  GoogleIdTokenUserBuilder,
  GoogleIdTokenUserBuilderOptions,
} from './verify/index.js';
