/**
 * Internal: how a server side of this package answers a refused identity, the same for
 * `requireGoogleIdToken` and `googleIdTokenUserBuilder`: JSON `{error, error_description}`
 * with an RFC 6750 challenge, 403 for a principal the policy does not admit, 503 with
 * `Retry-After` when the keys could not be loaded.
 */
import type {ServerResponse} from 'node:http';
import type {IdTokenVerificationCode} from './id-token-verification-error.js';
import type {IdTokenVerificationError} from './id-token-verification-error.js';

/** Seconds a client is asked to wait after `keys_unavailable` (`Retry-After`). */
const KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The HTTP status answered for a verification failure: 401, 403 (`forbidden_principal`) or 503 (`keys_unavailable`). */
export function statusForVerificationCode(code: IdTokenVerificationCode): 401 | 403 | 503 {
  if (code === 'forbidden_principal') return 403;
  if (code === 'keys_unavailable') return 503;
  return 401;
}

/**
 * The `audience="a b"` auth-param a `bad_audience` challenge carries when `announceAudience`
 * is on, or undefined when it is off or one of the audiences cannot stand in an auth-param's
 * quoted string as it is (a space, a quote, a backslash or a control character). Throws a
 * TypeError naming `owner` when `announceAudience` is not a boolean.
 */
export function audienceChallengeParam(
  options: {audience?: unknown; announceAudience?: unknown},
  owner: string,
): string | undefined {
  const announce = options.announceAudience;
  if (announce !== undefined && typeof announce !== 'boolean') {
    throw new TypeError(`${owner}.announceAudience must be a boolean`);
  }
  if (announce !== true) return undefined;
  const audience = options.audience;
  const list = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  if (!list.every((item) => typeof item === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(item))) {
    return undefined;
  }
  return `audience="${list.join(' ')}"`;
}

/** Answers `error` on `res` (unless an answer is already under way). */
export function sendVerificationRefusal(
  res: ServerResponse,
  error: IdTokenVerificationError,
  audienceParam?: string,
): void {
  if (res.headersSent || res.writableEnded) return;
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
  let challenge =
    code === 'missing' ? 'Bearer' : `Bearer error="${error_}", error_description="${code}"`;
  if (code === 'bad_audience' && audienceParam !== undefined) challenge += `, ${audienceParam}`;
  sendJson(res, status, {'www-authenticate': challenge}, {error: error_, error_description: code});
}

/** A small JSON answer that no cache keeps. */
export function sendJson(
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
