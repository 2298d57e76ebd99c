import type {IncomingMessage, ServerResponse} from 'node:http';
import type {GoogleAuthInfo} from './auth-info.js';
import {toAuthInfo} from './auth-info.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import {audienceChallengeParam, sendJson, sendVerificationRefusal} from './refusal-response.js';
import {createRequestVerifier} from './request-verifier.js';
import type {RequestVerifierOptions} from './request-verifier.js';

/**
 * Options of {@link requireGoogleIdToken}: the ID-token options plus `front` (`'none'`, the
 * default, or `'cloud-run'`; see {@link GoogleFront}), or, with `front: 'iap'`, the options
 * of {@link verifyIapJwt} (whose `audience` is IAP's `/projects/...` audience).
 */
export type RequireGoogleIdTokenOptions = RequestVerifierOptions & {
  /**
   * Name the accepted audience(s) in the challenge of a `bad_audience` refusal
   * (`WWW-Authenticate: Bearer error="invalid_token", error_description="bad_audience",
   * audience="<audiences, space-separated>"`), so that a caller who minted for the wrong one is
   * told which to use (this package's CLI quotes it). Turn it on only when the audience is not
   * the server's only check: with neither `allowedEmails` nor `allowedEmailDomains` (and no
   * Cloud Run invoker check in front), anyone with a Google account can mint a token for any
   * audience, and then the audience is all a stranger lacks. Default is false.
   */
  announceAudience?: boolean;
};

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

export {statusForVerificationCode} from './refusal-response.js';

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
 *   With `announceAudience`, a `bad_audience` challenge also names the accepted audiences.
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
  const audienceParam = audienceChallengeParam(options, 'RequireGoogleIdTokenOptions');
  return async function googleIdTokenGuard(req, res, next) {
    try {
      const verified = await verify(req.headers);
      req.auth = toAuthInfo(verified.token, verified.claims);
    } catch (error) {
      if (error instanceof IdTokenVerificationError) {
        sendVerificationRefusal(res, error, audienceParam);
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
