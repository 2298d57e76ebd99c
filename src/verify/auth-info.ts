import type {CheckedClaims} from './check-claims.js';

/**
 * What a verified request carries: the same shape as the MCP SDK's `AuthInfo` (declared here,
 * so the server entry's types need neither the SDK nor express), which the SDK's server
 * transports hand to tool handlers as `extra.authInfo`.
 *
 * @example
 * const info: GoogleAuthInfo = req.auth!; // {token, clientId: 'caller@...', scopes: [], expiresAt, extra: {claims}}
 */
export interface GoogleAuthInfo {
  /** The verified token (an ID token, or IAP's assertion). */
  token: string;
  /** The caller: its `email`, or `sub` when the token has none. */
  clientId: string;
  /** Always empty: Google ID tokens and IAP assertions carry no scopes. */
  scopes: string[];
  /** `exp`, in epoch seconds. */
  expiresAt?: number;
  /** The audience, when it is an http(s) URL (for `requireBearerAuth({expectedResource})`). */
  resource?: URL;
  /** `claims`: every claim of the verified token. */
  extra?: Record<string, unknown>;
}

/**
 * The {@link GoogleAuthInfo} for verified claims: `clientId` is the email (or `sub` when the
 * token has none), `scopes` is empty, `expiresAt` is `exp` in epoch seconds, `extra.claims`
 * holds every claim, and `resource` is the audience when that is an http(s) URL.
 *
 * @example
 * const info = toAuthInfo(token, claims); // {token, clientId: claims.email, scopes: [], expiresAt: claims.exp, ...}
 */
export function toAuthInfo(token: string, claims: CheckedClaims): GoogleAuthInfo {
  const email = claims.email;
  const info: GoogleAuthInfo = {
    token,
    clientId: typeof email === 'string' && email !== '' ? email : claims.sub,
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
