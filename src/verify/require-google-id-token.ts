import type {IncomingMessage, ServerResponse} from 'node:http';
import type {AuthInfo} from '@modelcontextprotocol/sdk/server/auth/types.js';
import {toAuthInfo} from './auth-info.js';
import {readBearerToken} from './bearer-token.js';
import {createIdTokenVerifier} from './create-id-token-verifier.js';
import type {IdTokenVerificationCode} from './id-token-verification-error.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import type {VerifyGoogleIdTokenOptions} from './verify-options.js';

/** Options of {@link requireGoogleIdToken}: the verification options. */
export type RequireGoogleIdTokenOptions = VerifyGoogleIdTokenOptions;

/** A request the middleware has authenticated carries `auth`, the MCP SDK's `AuthInfo`. */
export type RequestWithAuth = IncomingMessage & {auth?: AuthInfo};

/**
 * The guard {@link requireGoogleIdToken} returns. It resolves `true` when the request carries
 * a valid token (then `req.auth` is set, and `next()` has been called when given), and `false`
 * when it has answered the request itself (401, 403 or 503). It never rejects: an unexpected
 * error goes to `next(error)` when given, else it is answered with 500.
 */
export type GoogleIdTokenMiddleware = (
  req: RequestWithAuth,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<boolean>;

/** The HTTP status answered for a verification failure: 401, 403 (`forbidden_principal`) or 503 (`keys_unavailable`). */
export function statusForVerificationCode(code: IdTokenVerificationCode): 401 | 403 | 503 {
  if (code === 'forbidden_principal') return 403;
  if (code === 'keys_unavailable') return 503;
  return 401;
}

/** Seconds a client is asked to wait after `keys_unavailable` (`Retry-After`). */
const KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Middleware that lets a request through only with a valid Google ID token, for
 * express/connect (`app.use(guard)`) and plain `node:http` (`if (await guard(req, res))`).
 *
 * The token is read from `X-Serverless-Authorization` when present, else from
 * `Authorization: Bearer` (scheme in any case). On success `req.auth` is the MCP SDK
 * `AuthInfo` (`token`, `clientId` = email or sub, `scopes: []`, `expiresAt` = exp,
 * `extra.claims`), which `StreamableHTTPServerTransport` hands to tool handlers as
 * `extra.authInfo`. Refusals are JSON `{error, error_description}` where `error_description`
 * is the {@link IdTokenVerificationCode}:
 * - 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="<code>"`;
 *   for `missing`, the bare `WWW-Authenticate: Bearer` challenge (RFC 6750 §3.1: no error
 *   code when the request carries no credentials).
 * - 403 with `WWW-Authenticate: Bearer error="insufficient_scope", error_description="forbidden_principal"`
 *   when the token is valid but its principal is not allowed.
 * - 503 with `Retry-After` for `keys_unavailable`: the server could not load Google's keys,
 *   which a fresh token would not fix.
 *
 * @example
 * // express
 * app.post('/mcp', requireGoogleIdToken({audience: 'https://mcp.example.com'}), handler);
 * // node:http
 * const guard = requireGoogleIdToken({audience: 'https://mcp.example.com'});
 * http.createServer(async (req, res) => {
 *   if (!(await guard(req, res))) return;
 *   await transport.handleRequest(req, res);
 * });
 */
export function requireGoogleIdToken(
  options: RequireGoogleIdTokenOptions,
): GoogleIdTokenMiddleware {
  const verify = createIdTokenVerifier(options);
  return async function googleIdTokenGuard(req, res, next) {
    try {
      const found = readBearerToken(req.headers);
      if ('code' in found) {
        refuse(res, new IdTokenVerificationError(found.code, found.message));
        return false;
      }
      const claims = await verify(found.token);
      req.auth = toAuthInfo(found.token, claims);
    } catch (error) {
      if (error instanceof IdTokenVerificationError) {
        refuse(res, error);
        return false;
      }
      if (next) {
        next(error);
      } else if (!res.headersSent) {
        sendJson(res, 500, {}, {error: 'server_error', error_description: 'internal error'});
      }
      return false;
    }
    next?.();
    return true;
  };
}

function refuse(res: ServerResponse, error: IdTokenVerificationError): void {
  if (res.headersSent) return;
  const code = error.code;
  const status = statusForVerificationCode(code);
  if (status === 503) {
    sendJson(
      res,
      503,
      {'retry-after': String(KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS)},
      {error: 'temporarily_unavailable', error_description: code},
    );
    return;
  }
  const error_ = status === 403 ? 'insufficient_scope' : 'invalid_token';
  const challenge =
    code === 'missing' ? 'Bearer' : `Bearer error="${error_}", error_description="${code}"`;
  sendJson(res, status, {'www-authenticate': challenge}, {error: error_, error_description: code});
}

function sendJson(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Record<string, string>,
): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}
