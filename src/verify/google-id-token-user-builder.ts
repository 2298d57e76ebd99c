import type {IncomingHttpHeaders, IncomingMessage, ServerResponse} from 'node:http';
import type {GoogleIdTokenClaims} from './google-id-token-claims.js';
import type {IapJwtClaims} from './iap-jwt-claims.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import {audienceChallengeParam, sendVerificationRefusal} from './refusal-response.js';
import type {RequireGoogleIdTokenOptions} from './require-google-id-token.js';
import {createRequestVerifier} from './request-verifier.js';

/**
 * Options of {@link googleIdTokenUserBuilder}: those of `requireGoogleIdToken` (including
 * `announceAudience`). The ID-token options with `front` (`'none'`, the default: a signed token is required; `'cloud-run'`
 * behind Cloud Run with "Require authentication", whose stripped token is accepted from the
 * header the front checked), or, with `front: 'iap'`, the options of `verifyIapJwt` (IAP's
 * signed assertion is the identity).
 */
export type GoogleIdTokenUserBuilderOptions = RequireGoogleIdTokenOptions;

/**
 * What the user builder reads of a request. Express's `Request` (what `@a2a-js/sdk`'s
 * express handlers and ADK's `toA2a` pass) has both fields; no express types are needed.
 */
export interface A2aRequestLike {
  /** The request headers (Node's lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /**
   * The response of this request (express sets `req.res`). When present and not yet
   * answered, a refusal is answered on it (401, 403 or 503) before the builder throws.
   */
  readonly res?: ServerResponse | undefined;
}

/**
 * The caller of an A2A request, once its Google ID token is verified. It is an
 * `@a2a-js/sdk` `User`: the agent executor finds it as `requestContext.context.user`.
 */
export interface GoogleIdTokenUser {
  /** Always true: refused callers never get a user. */
  readonly isAuthenticated: true;
  /** The caller's email (`email` claim), or its `sub` when the token has no email. */
  readonly userName: string;
  /** The `email` claim, when the token carries one. */
  readonly email: string | undefined;
  /** Every claim of the verified ID token (or, with `front: 'iap'`, of IAP's assertion); frozen. */
  readonly claims: GoogleIdTokenClaims | IapJwtClaims;
}

/**
 * Express/connect middleware form of the builder (see {@link GoogleIdTokenUserBuilder.guard}):
 * answers a refusal itself and calls `next()` only for a verified caller, `next(error)` for
 * an unexpected failure. The promise it returns settles once that is done (express 5 routes a
 * rejection to `next`); it rejects only if `next` throws.
 */
export type GoogleIdTokenA2aGuard = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;

/**
 * An `@a2a-js/sdk` express `UserBuilder` (`(req) => Promise<User>`) that also serves as ADK's
 * `toA2a({authentication})`, with a middleware form.
 */
export interface GoogleIdTokenUserBuilder {
  /**
   * Verifies the request's Google ID token. Resolves with the {@link GoogleIdTokenUser};
   * otherwise answers the refusal on `req.res` (when express provides it) and rejects with
   * the {@link IdTokenVerificationError}, so the request never reaches the agent executor.
   */
  (req: A2aRequestLike): Promise<GoogleIdTokenUser>;
  /**
   * The same check as middleware, to mount before the A2A handlers
   * (`app.use(authentication.guard)`). Refusals are then answered before `@a2a-js/sdk` sees
   * the request (its JSON-RPC handler logs every error a user builder throws), and the
   * builder reuses the guard's result instead of verifying again.
   */
  readonly guard: GoogleIdTokenA2aGuard;
}

/**
 * Google identity for an A2A server: an `@a2a-js/sdk` express `UserBuilder` that verifies the
 * caller with the same options and verifier as `requireGoogleIdToken`: `audience`,
 * `allowedEmails` / `allowedEmailDomains`, and `front`, which says which header a Google
 * front vouched for (`'none'` by default: a Google ID token with a valid signature, from
 * `X-Serverless-Authorization` when present, else `Authorization: Bearer`; `'cloud-run'`: the
 * same header, whose token Cloud Run checked and stripped of its signature; `'iap'`: IAP's
 * signed `x-goog-iap-jwt-assertion`). A verified caller becomes a {@link GoogleIdTokenUser}
 * whose `userName` is its email. Options are validated now (a TypeError names the bad one).
 *
 * A bad or missing token never reaches the agent executor. `@a2a-js/sdk` answers 500 to any
 * error a user builder throws, so the builder answers first, on express's `req.res`:
 * - 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="<code>"`
 *   (bare `Bearer` when no token was sent);
 * - 403 with `WWW-Authenticate: Bearer error="insufficient_scope", error_description="forbidden_principal"`
 *   for a valid token from a caller outside `allowedEmails` / `allowedEmailDomains`;
 * - 503 with `Retry-After` when Google's keys could not be loaded (fails closed);
 *
 * and then throws the {@link IdTokenVerificationError}, which the SDK can no longer turn into
 * a 500 (its JSON-RPC handler still logs it). Mount {@link GoogleIdTokenUserBuilder.guard} in
 * front of the A2A routes to answer before the SDK sees the request at all.
 *
 * @example
 * // @a2a-js/sdk, on Cloud Run with "Require authentication"
 * const authentication = googleIdTokenUserBuilder({audience: 'https://agent-abc.a.run.app', front: 'cloud-run'});
 * app.use(authentication.guard);
 * app.use('/jsonrpc', jsonRpcHandler({requestHandler, userBuilder: authentication}));
 * // @google/adk
 * const app = await toA2a(agent, {authentication: googleIdTokenUserBuilder({audience, front: 'cloud-run'})});
 */
export function googleIdTokenUserBuilder(
  options: GoogleIdTokenUserBuilderOptions,
): GoogleIdTokenUserBuilder {
  const verify = createRequestVerifier(options, 'GoogleIdTokenUserBuilderOptions');
  const audienceParam = audienceChallengeParam(options, 'GoogleIdTokenUserBuilderOptions');
  const refuse = (res: ServerResponse, error: IdTokenVerificationError): void =>
    sendVerificationRefusal(res, error, audienceParam);
  const verified = new WeakMap<object, GoogleIdTokenUser>();

  async function authenticate(headers: IncomingHttpHeaders): Promise<GoogleIdTokenUser> {
    return toUser((await verify(headers)).claims);
  }

  const builder = async (req: A2aRequestLike): Promise<GoogleIdTokenUser> => {
    const known = verified.get(req);
    if (known) return known;
    try {
      return await authenticate(req.headers);
    } catch (error) {
      if (error instanceof IdTokenVerificationError && req.res) refuse(req.res, error);
      throw error;
    }
  };

  const guard: GoogleIdTokenA2aGuard = async (req, res, next) => {
    let user: GoogleIdTokenUser;
    try {
      user = await authenticate(req.headers);
    } catch (error) {
      if (error instanceof IdTokenVerificationError) refuse(res, error);
      else next(error);
      return;
    }
    verified.set(req, user);
    next();
  };

  return Object.assign(builder, {guard}) as GoogleIdTokenUserBuilder;
}

function toUser(claims: GoogleIdTokenClaims | IapJwtClaims): GoogleIdTokenUser {
  const email = typeof claims.email === 'string' && claims.email !== '' ? claims.email : undefined;
  return Object.freeze({
    isAuthenticated: true as const,
    userName: email ?? claims.sub,
    email,
    claims,
  });
}
