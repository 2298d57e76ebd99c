import type {AuthInfo} from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {GoogleIdTokenClaims} from './google-id-token-claims.js';

/**
 * The MCP SDK `AuthInfo` for a verified Google ID token: `clientId` is the email (or `sub`
 * when the token has none), `scopes` is empty (ID tokens carry none), `expiresAt` is `exp`
 * in epoch seconds, `extra.claims` holds every claim, and `resource` is the audience when
 * that is an http(s) URL (so `requireBearerAuth({expectedResource})` can compare it).
 *
 * @example
 * const info = toAuthInfo(token, claims); // {token, clientId: claims.email, scopes: [], expiresAt: claims.exp, ...}
 */
export function toAuthInfo(token: string, claims: GoogleIdTokenClaims): AuthInfo {
  const info: AuthInfo = {
    token,
    clientId: typeof claims.email === 'string' && claims.email !== '' ? claims.email : claims.sub,
    scopes: [],
    expiresAt: claims.exp,
    extra: {claims},
  };
  const resource = audienceUrl(claims.aud);
  if (resource) info.resource = resource;
  return info;
}

function audienceUrl(aud: string): URL | undefined {
  if (!/^https?:\/\//i.test(aud)) return undefined;
  try {
    return new URL(aud);
  } catch {
    return undefined;
  }
}
