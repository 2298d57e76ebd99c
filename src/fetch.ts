/**
 * Entry `mcp-google-auth/fetch`: the client side without toolsets. A Google credential on
 * every request of any `fetch`-based client (the MCP SDK's transports, A2A clients, agent
 * frameworks), the credential model it takes, and the shared token cache. Loads neither the
 * MCP SDK nor a server-side verifier.
 *
 * Every export here is public API; named exports only.
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
export type {TokenRetryOptions} from './tokens/retry-policy.js';
export type {
  CredentialDescription,
  CredentialKind,
  Token,
  TokenRequest,
  TokenSource,
} from './tokens/token-source.js';
export {tokenFingerprint} from './tokens/fingerprint.js';
export type {FetchLike} from './tokens/google-routing.js';

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
