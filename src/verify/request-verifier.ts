import type {IncomingHttpHeaders} from 'node:http';
import {readBearerToken} from './bearer-token.js';
import type {CheckedClaims} from './check-claims.js';
import {idTokenCheck} from './create-id-token-verifier.js';
import type {IapJwtClaims} from './iap-jwt-claims.js';
import type {VerifyIapJwtOptions} from './iap-options.js';
import {resolveIapOptions} from './iap-options.js';
import type {GoogleIdTokenClaims} from './google-id-token-claims.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import {SIGNATURE_REMOVED_BY_GOOGLE} from './jws.js';
import {iapJwtCheck} from './verify-iap-jwt.js';
import type {VerifyGoogleIdTokenOptions} from './verify-options.js';
import {resolveVerifyOptions} from './verify-options.js';

/**
 * Which Google front stands before the server, and so which header carries the identity it
 * vouched for:
 * - `'none'`: no front vouches for anything; the ID token (from `X-Serverless-Authorization`
 *   when present, else `Authorization`) must carry a valid signature.
 * - `'cloud-run'`: Cloud Run with "Require authentication" (no `allUsers` invoker). It checks
 *   `X-Serverless-Authorization` when present, else `Authorization`, and forwards that token
 *   with its signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE`; only that header's token is
 *   accepted on its claims alone. A request that came through IAP (it carries IAP's headers)
 *   or holds `Proxy-Authorization` gets no such trust.
 * - `'iap'`: Identity-Aware Proxy. The identity is IAP's signed `x-goog-iap-jwt-assertion`
 *   (see {@link verifyIapJwt}); `Authorization` is never read, since IAP passes it through
 *   unchecked when it checked `Proxy-Authorization`.
 */
export type GoogleFront = 'none' | 'cloud-run' | 'iap';

/** Headers only IAP sets; a request carrying one came through IAP (or pretends to). */
const IAP_HEADERS = [
  'x-goog-iap-jwt-assertion',
  'x-goog-authenticated-user-email',
  'x-goog-authenticated-user-id',
] as const;

/** The IAP assertion header. */
const IAP_ASSERTION = 'x-goog-iap-jwt-assertion';

/** The identity a request proved, and where it was read. */
export interface VerifiedRequest {
  /** The verified token (an ID token, or IAP's assertion). */
  readonly token: string;
  /** The header it came in. */
  readonly header: 'authorization' | 'x-serverless-authorization' | 'x-goog-iap-jwt-assertion';
  /** Its claims (frozen). */
  readonly claims: GoogleIdTokenClaims | IapJwtClaims;
}

/** Verifies the identity of a request from its headers; rejects with IdTokenVerificationError. */
export type RequestVerifier = (headers: IncomingHttpHeaders) => Promise<VerifiedRequest>;

/** Options of {@link createRequestVerifier}: ID-token options with the front, or IAP options. */
export type RequestVerifierOptions =
  | (VerifyGoogleIdTokenOptions & {
      front?: 'none' | 'cloud-run';
      /** Same as `front: 'cloud-run'` (the older spelling). Default is false. */
      trustCloudRunFront?: boolean;
    })
  | (VerifyIapJwtOptions & {front: 'iap'});

const FRONTS: readonly GoogleFront[] = ['none', 'cloud-run', 'iap'];

/**
 * The front a configuration names: `front`, or `trustCloudRunFront: true` as `'cloud-run'`;
 * a TypeError when they disagree or `front` is not a known one.
 */
export function frontOf(options: RequestVerifierOptions, owner: string): GoogleFront {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner} must be an object with at least {audience}`);
  }
  const {front} = options;
  const trust = (options as {trustCloudRunFront?: unknown}).trustCloudRunFront;
  if (front !== undefined && !FRONTS.includes(front)) {
    throw new TypeError(`${owner}.front must be 'none', 'cloud-run' or 'iap'`);
  }
  if (trust !== undefined && typeof trust !== 'boolean') {
    throw new TypeError(`${owner}.trustCloudRunFront must be a boolean`);
  }
  if (trust === true && front !== undefined && front !== 'cloud-run') {
    throw new TypeError(
      `${owner}.trustCloudRunFront: true means front: 'cloud-run', but front is '${front}'; set only front`,
    );
  }
  return front ?? (trust === true ? 'cloud-run' : 'none');
}

/**
 * The request verifier for `options` (validated now). Trust follows the front (see
 * {@link GoogleFront}): only the header the front itself checked may carry a token whose
 * signature the front removed.
 */
export function createRequestVerifier(
  options: RequestVerifierOptions,
  owner = 'RequireGoogleIdTokenOptions',
): RequestVerifier {
  const front = frontOf(options, owner);
  if (front === 'iap') {
    const {front: _front, ...iap} = options as VerifyIapJwtOptions & {front: 'iap'};
    const check = iapJwtCheck(resolveIapOptions(iap, owner));
    return async (headers) => {
      const raw = headers[IAP_ASSERTION];
      const value = typeof raw === 'string' ? raw.trim() : raw;
      if (value === undefined || value === '') {
        throw new IdTokenVerificationError(
          'missing',
          'no x-goog-iap-jwt-assertion header: the request did not come through IAP',
        );
      }
      if (typeof value !== 'string') {
        throw new IdTokenVerificationError(
          'malformed',
          'x-goog-iap-jwt-assertion header appears more than once',
        );
      }
      return {token: value, header: IAP_ASSERTION, claims: await check(value, false)};
    };
  }
  const {
    front: _front,
    trustCloudRunFront: _trust,
    ...idOptions
  } = options as VerifyGoogleIdTokenOptions & {
    front?: GoogleFront;
    trustCloudRunFront?: boolean;
  };
  const check = idTokenCheck(resolveVerifyOptions(idOptions, owner));
  return async (headers) => {
    const found = readBearerToken(headers);
    if ('code' in found) throw new IdTokenVerificationError(found.code, found.message);
    const frontChecked = front === 'cloud-run';
    if (frontChecked && found.token.endsWith(`.${SIGNATURE_REMOVED_BY_GOOGLE}`)) {
      const iap = IAP_HEADERS.find((name) => headers[name] !== undefined);
      if (iap !== undefined || headers['proxy-authorization'] !== undefined) {
        // IAP (or another proxy) stood in front as well: it may have checked
        // Proxy-Authorization and let this header through unchecked.
        throw new IdTokenVerificationError(
          'bad_signature',
          `signature was removed, but the request came through IAP or a proxy (${iap ?? 'proxy-authorization'}), which may not have checked ${found.header}; behind IAP use front: 'iap'`,
        );
      }
    }
    const claims: CheckedClaims = await check(found.token, frontChecked);
    return {token: found.token, header: found.header, claims: claims as GoogleIdTokenClaims};
  };
}
