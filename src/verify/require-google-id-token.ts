import type {IncomingMessage, ServerResponse} from 'node:http';
import type {GoogleAuthInfo} from './auth-info.js';
import {toAuthInfo} from './auth-info.js';
import type {IdTokenVerificationCode} from './id-token-verification-error.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import {createRequestVerifier} from './request-verifier.js';
import type {RequestVerifierOptions} from './request-verifier.js';

/**
 * Options of {@link requireGoogleIdToken}: the ID-token options plus `front` (`'none'`, the
 * default, or `'cloud-run'`; see {@link GoogleFront}), or, with `front: 'iap'`, the options
 * of {@link verifyIapJwt} (whose `audience` is IAP's `/projects/...` audience).
 */
export type RequireGoogleIdTokenOptions = RequestVerifierOptions;

/** A request the middleware has authenticated carries `auth` (the MCP SDK's `AuthInfo` shape). */
export type RequestWithAuth = IncomingMessage & {auth?: GoogleAuthInfo};

/**
 * The guard {@link requireGoogleIdToken} returns. It resolves `true` when the request carries
 * a valid identity (then `req.auth` is set, and `next()` has been called when given), and
 * `false` when it has answered the request itself (401, 403 or 503). It never rejects: an
 * unexpected error goes to `next(error)` when given, else it is answered with 500.
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
 * Middleware that lets a request through only with a valid Google identity, for
 * express/connect (`app.use(guard)`) and plain `node:http` (`if (await guard(req, res))`).
 * It reads the header that the configured `front` vouches for, and no other:
 * - `front: 'none'` (default): an ID token from `X-Serverless-Authorization` when present,
 *   else `Authorization: Bearer` (scheme in any case), with a valid signature.
 * - `front: 'cloud-run'`: the same header, which is the one Cloud Run checked; its token may
 *   carry `SIGNATURE_REMOVED_BY_GOOGLE` (claims still checked). Safe only when the service
 *   requires authentication at Cloud Run's front.
 * - `front: 'iap'`: IAP's signed `x-goog-iap-jwt-assertion` ({@link verifyIapJwt});
 *   `Authorization` is never read.
 *
 * On success `req.auth` is a {@link GoogleAuthInfo} (`token`, `clientId` = email or sub,
 * `scopes: []`, `expiresAt` = exp, `extra.claims`), which the MCP SDK's
 * `StreamableHTTPServerTransport` hands to tool handlers as `extra.authInfo`. Refusals are JSON
 * `{error, error_description}` where `error_description` is the {@link IdTokenVerificationCode}:
 * - 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="<code>"`;
 *   for `missing`, the bare `WWW-Authenticate: Bearer` challenge (RFC 6750 §3.1).
 * - 403 with `error="insufficient_scope"` for `forbidden_principal`.
 * - 503 with `Retry-After` for `keys_unavailable`, which a fresh token would not fix.
 *
 * Options are validated now (a TypeError names the bad one).
 *
 * @example
 * // express, behind Cloud Run with "Require authentication"
 * app.post('/mcp', requireGoogleIdToken({audience: 'https://mcp.example.com', front: 'cloud-run'}), handler);
 * // node:http, behind IAP
 * const guard = requireGoogleIdToken({front: 'iap', audience: '/projects/123/global/backendServices/456'});
 * http.createServer(async (req, res) => {
 *   if (await guard(req, res)) transport.handleRequest(req, res);
 * });
 */
export function requireGoogleIdToken(
  options: RequireGoogleIdTokenOptions,
): GoogleIdTokenMiddleware {
  const verify = createRequestVerifier(options);
  return async function googleIdTokenGuard(req, res, next) {
    try {
      const verified = await verify(req.headers);
      req.auth = toAuthInfo(verified.token, verified.claims);
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
