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
