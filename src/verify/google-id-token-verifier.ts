import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {OAuthError} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {OAuthTokenVerifier} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type {AuthInfo} from '@modelcontextprotocol/sdk/server/auth/types.js';
import {toAuthInfo} from './auth-info.js';
import {createIdTokenVerifier} from './create-id-token-verifier.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import type {VerifyGoogleIdTokenOptions} from './verify-options.js';

/** Options of {@link googleIdTokenVerifier}: the verification options. */
export type GoogleIdTokenVerifierOptions = VerifyGoogleIdTokenOptions;

/**
 * An MCP SDK `OAuthTokenVerifier` that accepts Google ID tokens, for the SDK's
 * `requireBearerAuth` (which reads `Authorization: Bearer` only). `verifyAccessToken`
 * resolves with `AuthInfo` (`clientId` = email or sub, `scopes: []`, `expiresAt` = exp,
 * `extra.claims`, `resource` = aud when it is a URL) and rejects with the SDK's errors, so
 * `requireBearerAuth` answers as it does for any verifier:
 * - `InvalidTokenError` (401) for a bad token,
 * - `InsufficientScopeError` (403) for `forbidden_principal`,
 * - `ServerError` (500) for `keys_unavailable`.
 *
 * The error message (which the SDK copies into `WWW-Authenticate`'s `error_description`) is
 * the {@link IdTokenVerificationCode}; the {@link IdTokenVerificationError} is its `cause`.
 * `requireBearerAuth` itself refuses a token past `exp` even within the clock tolerance.
 *
 * @example
 * app.post('/mcp', requireBearerAuth({verifier: googleIdTokenVerifier({audience: 'https://mcp.example.com'})}), handler);
 */
export function googleIdTokenVerifier(options: GoogleIdTokenVerifierOptions): OAuthTokenVerifier {
  const verify = createIdTokenVerifier(options);
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return toAuthInfo(token, await verify(token));
      } catch (error) {
        if (!(error instanceof IdTokenVerificationError)) throw error;
        throw toOAuthError(error);
      }
    },
  };
}

function toOAuthError(error: IdTokenVerificationError): OAuthError {
  const oauthError =
    error.code === 'forbidden_principal'
      ? new InsufficientScopeError(error.code)
      : error.code === 'keys_unavailable'
        ? new ServerError(error.code)
        : new InvalidTokenError(error.code);
  Object.defineProperty(oauthError, 'cause', {
    value: error,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  return oauthError;
}
