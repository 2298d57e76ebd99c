import type * as SdkAuthErrors from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {GoogleAuthInfo} from './auth-info.js';
import {toAuthInfo} from './auth-info.js';
import {idTokenCheck} from './create-id-token-verifier.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import type {VerifyGoogleIdTokenOptions} from './verify-options.js';
import {resolveVerifyOptions} from './verify-options.js';

/** Options of {@link googleIdTokenVerifier}: the verification options. */
export type GoogleIdTokenVerifierOptions = VerifyGoogleIdTokenOptions;

/**
 * The verifier {@link googleIdTokenVerifier} returns: structurally the MCP SDK's
 * `OAuthTokenVerifier` (declared here, so these types need neither the SDK nor express).
 */
export interface GoogleBearerVerifier {
  /** Resolves with the caller's {@link GoogleAuthInfo}; rejects with the SDK's OAuth errors. */
  verifyAccessToken(token: string): Promise<GoogleAuthInfo>;
}

type OAuthErrors = typeof SdkAuthErrors;
let oauthErrors: Promise<OAuthErrors | undefined> | undefined;

/**
 * The MCP SDK's OAuth error classes, loaded when an SDK verifier is built (so importing this
 * package's server entry loads nothing of the SDK). `requireBearerAuth` tells them apart with
 * `instanceof`, so they must be the SDK's own.
 */
function loadOAuthErrors(): Promise<OAuthErrors | undefined> {
  oauthErrors ??= import('@modelcontextprotocol/sdk/server/auth/errors.js').catch(() => undefined);
  return oauthErrors;
}

/**
 * An MCP SDK `OAuthTokenVerifier` that accepts Google ID tokens, for the SDK's
 * `requireBearerAuth`, which reads `Authorization: Bearer` only. `verifyAccessToken` resolves
 * with {@link GoogleAuthInfo} (`clientId` = email or sub, `scopes: []`, `expiresAt` = exp,
 * `extra.claims`, `resource` = aud when it is a URL) and rejects with the SDK's errors, so
 * `requireBearerAuth` answers as it does for any verifier:
 * - `InvalidTokenError` (401) for a bad token,
 * - `InsufficientScopeError` (403) for `forbidden_principal`,
 * - `ServerError` (500) for `keys_unavailable`.
 *
 * The error message (which the SDK copies into `WWW-Authenticate`'s `error_description`) is
 * the {@link IdTokenVerificationCode}; the {@link IdTokenVerificationError} is its `cause`.
 * Every token must carry a valid signature: this adapter cannot see which header a Google
 * front checked, so `trustCloudRunFront` is refused here (a TypeError); behind Cloud Run or
 * IAP use {@link requireGoogleIdToken} with `front`, which sets the same `req.auth`.
 *
 * @example
 * app.post('/mcp', requireBearerAuth({verifier: googleIdTokenVerifier({audience: 'https://mcp.example.com'})}), handler);
 */
export function googleIdTokenVerifier(options: GoogleIdTokenVerifierOptions): GoogleBearerVerifier {
  const check = idTokenCheck(resolveVerifyOptions(options, 'GoogleIdTokenVerifierOptions'));
  void loadOAuthErrors();
  return {
    async verifyAccessToken(token: string): Promise<GoogleAuthInfo> {
      try {
        return toAuthInfo(token, await check(token, false));
      } catch (error) {
        if (!(error instanceof IdTokenVerificationError)) throw error;
        throw await toOAuthError(error);
      }
    },
  };
}

async function toOAuthError(error: IdTokenVerificationError): Promise<Error> {
  const sdk = await loadOAuthErrors();
  if (sdk === undefined) return error;
  const oauthError =
    error.code === 'forbidden_principal'
      ? new sdk.InsufficientScopeError(error.code)
      : error.code === 'keys_unavailable'
        ? new sdk.ServerError(error.code)
        : new sdk.InvalidTokenError(error.code);
  Object.defineProperty(oauthError, 'cause', {
    value: error,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  return oauthError;
}
