import {compactVerify, errors as joseErrors} from 'jose';
import {checkIdTokenClaims} from './check-claims.js';
import type {GoogleIdTokenClaims} from './google-id-token-claims.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import {JwksKeySet, sharedJwksKeySet} from './jwks-key-set.js';
import {VerifiedTokenCache, verifiedCacheKey} from './verified-token-cache.js';
import type {ResolvedVerifyOptions, VerifyGoogleIdTokenOptions} from './verify-options.js';
import {resolveVerifyOptions} from './verify-options.js';
import {observeVerifications} from '../telemetry/verify-telemetry.js';

/** Longest token accepted, in characters (8 KB); longer ones are refused before parsing. */
export const MAX_ID_TOKEN_LENGTH = 8192;

/** What Cloud Run puts in place of the signature of a token it forwards to the container. */
export const SIGNATURE_REMOVED_BY_GOOGLE = 'SIGNATURE_REMOVED_BY_GOOGLE';

/**
 * A reusable verifier: resolves with the claims of a valid token, rejects with an
 * {@link IdTokenVerificationError} otherwise.
 */
export type IdTokenVerifier = (token: string) => Promise<GoogleIdTokenClaims>;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Builds a verifier for Google ID tokens with fixed options (validated now; a bad option is
 * a TypeError). It holds the JWKS (shared per `jwksUrl` in the process unless `fetch` or
 * `now` is injected) and a cache of verified tokens, so a repeated token costs a SHA-256
 * and a map lookup. Only RS256 is accepted, whatever the token's header says; the key is
 * chosen by `kid`.
 *
 * @example
 * const verify = createIdTokenVerifier({audience: 'https://svc-abc.a.run.app'});
 * const claims = await verify(token); // throws IdTokenVerificationError
 */
export function createIdTokenVerifier(options: VerifyGoogleIdTokenOptions): IdTokenVerifier {
  const resolved = resolveVerifyOptions(options);
  const keySet = resolved.shareKeySet
    ? sharedJwksKeySet(resolved.jwksUrl, resolved.jwksTimeoutMs)
    : new JwksKeySet({
        url: resolved.jwksUrl,
        fetch: resolved.fetch,
        timeoutMs: resolved.jwksTimeoutMs,
      });
  const cache =
    resolved.verifiedCacheMaxEntries > 0
      ? new VerifiedTokenCache(resolved.verifiedCacheMaxEntries)
      : undefined;
  const toleranceMs = resolved.clockToleranceSeconds * 1000;

  return observeVerifications(async function verifyIdToken(token: string) {
    if (typeof token !== 'string') {
      throw new IdTokenVerificationError('missing', 'no token was presented');
    }
    if (token.length > MAX_ID_TOKEN_LENGTH) {
      throw new IdTokenVerificationError(
        'too_large',
        `token is longer than ${MAX_ID_TOKEN_LENGTH} characters`,
      );
    }
    if (token.trim() === '') {
      throw new IdTokenVerificationError('missing', 'no token was presented');
    }
    const now = resolved.now();
    const cacheKey = cache && verifiedCacheKey(token);
    if (cache && cacheKey) {
      const hit = cache.get(cacheKey);
      if (hit !== undefined) {
        if (now <= hit.validUntilMs && (hit.kid === undefined || keySet.has(hit.kid))) {
          keySet.refreshIfStale(now);
          return hit.claims;
        }
        cache.delete(cacheKey);
      }
    }
    const {claims, kid} = await verifyUncached(token, now, resolved, keySet);
    if (cache && cacheKey) {
      cache.set(cacheKey, {claims, kid, validUntilMs: claims.exp * 1000 + toleranceMs});
    }
    return claims;
  });
}

async function verifyUncached(
  token: string,
  now: number,
  options: ResolvedVerifyOptions,
  keySet: JwksKeySet,
): Promise<{claims: GoogleIdTokenClaims; kid: string | undefined}> {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new IdTokenVerificationError(
      'malformed',
      'token is not a compact JWS of three dot-separated segments',
    );
  }
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  if (
    headerPart === '' ||
    payloadPart === '' ||
    !BASE64URL.test(headerPart) ||
    !BASE64URL.test(payloadPart) ||
    !BASE64URL.test(signaturePart)
  ) {
    throw new IdTokenVerificationError('malformed', 'token segments are not base64url');
  }
  const header = decodeJsonObject(headerPart, 'header');
  if (header.alg !== 'RS256') {
    throw new IdTokenVerificationError('bad_signature', 'header alg is not RS256');
  }
  if (header.crit !== undefined) {
    throw new IdTokenVerificationError('malformed', 'header crit is not supported');
  }

  if (signaturePart === SIGNATURE_REMOVED_BY_GOOGLE) {
    if (!options.trustCloudRunFront) {
      throw new IdTokenVerificationError(
        'bad_signature',
        'signature was removed by a Cloud Run front; set trustCloudRunFront only if the service requires authentication',
      );
    }
    const payload = decodeJsonObject(payloadPart, 'payload');
    return {claims: checkIdTokenClaims(payload, options, now), kid: undefined};
  }
  if (signaturePart === '') {
    throw new IdTokenVerificationError('bad_signature', 'signature is missing');
  }

  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') {
    throw new IdTokenVerificationError('unknown_key', 'header kid is missing');
  }
  const key = await keySet.getKey(kid, now);
  let payloadBytes: Uint8Array;
  try {
    ({payload: payloadBytes} = await compactVerify(token, key, {algorithms: ['RS256']}));
  } catch (error) {
    throw joseFailure(error);
  }
  const payload = parseJsonObject(
    Buffer.from(payloadBytes.buffer, payloadBytes.byteOffset, payloadBytes.byteLength).toString(
      'utf8',
    ),
    'payload',
  );
  return {claims: checkIdTokenClaims(payload, options, now), kid};
}

function joseFailure(error: unknown): IdTokenVerificationError {
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JOSENotSupported) {
    return new IdTokenVerificationError('malformed', 'token is not a valid JWS', {cause: error});
  }
  return new IdTokenVerificationError(
    'bad_signature',
    'signature does not verify with the published key',
    {cause: error},
  );
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  return parseJsonObject(Buffer.from(segment, 'base64url').toString('utf8'), part);
}

function parseJsonObject(text: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IdTokenVerificationError('malformed', `token ${part} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IdTokenVerificationError('malformed', `token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
