import {checkClaims, plausibleClaims} from './check-claims.js';
import type {CheckedClaims, ClaimRules} from './check-claims.js';
import {IdTokenVerificationError} from './id-token-verification-error.js';
import type {JwksKeySet} from './jwks-key-set.js';
import {
  SIGNATURE_REMOVED_BY_GOOGLE,
  checkHeader,
  decodePayload,
  parseCompactJws,
  signatureVerifies,
} from './jws.js';
import type {JwsAlgorithm} from './jws.js';
import {VerifiedTokenCache, verifiedCacheKey} from './verified-token-cache.js';
import {observeVerifications} from '../telemetry/verify-telemetry.js';

/** Longest token accepted, in characters (8 KB); longer ones are refused before parsing. */
export const MAX_ID_TOKEN_LENGTH = 8192;

/** How one kind of signed token is verified. */
export interface SignedJwtVerifierConfig {
  /** The one accepted algorithm. */
  readonly algorithm: JwsAlgorithm;
  /** Where its keys come from. */
  readonly keySet: JwksKeySet;
  /** The claim rules. */
  readonly rules: ClaimRules;
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /** Most verified tokens remembered; 0 for none. */
  readonly cacheMaxEntries: number;
  /** Why a token whose signature a front removed is refused, when the caller does not vouch for it. */
  readonly removedSignatureRefusal: string;
}

/**
 * A verification function for one kind of signed token. `frontChecked` is true only when the
 * caller knows that Google's front verified this very token (it read the header the front
 * checks); only then is a token whose signature was replaced by `SIGNATURE_REMOVED_BY_GOOGLE`
 * judged by its claims alone.
 */
export type SignedJwtCheck<Claims extends CheckedClaims> = (
  token: string,
  frontChecked?: boolean,
) => Promise<Claims>;

/**
 * Builds the verification every verifier of this package runs: a bounded cache of verified
 * tokens (SHA-256 of the token to frozen claims, until `exp`, while the key is usable), strict
 * compact-JWS parsing, the header policy (configured algorithm only; no `crit`, `jku`, `x5u`,
 * `jwk`, `x5c`), the key by `kid` as a cached `node:crypto` `KeyObject`, a synchronous
 * `crypto.verify`, then the claims. A token whose key is not at hand must have plausible claims
 * before it may cause a key-set request.
 */
export function createSignedJwtVerifier<Claims extends CheckedClaims>(
  config: SignedJwtVerifierConfig,
): SignedJwtCheck<Claims> {
  const {algorithm, keySet, rules} = config;
  const cache =
    config.cacheMaxEntries > 0 ? new VerifiedTokenCache(config.cacheMaxEntries) : undefined;
  const toleranceMs = rules.clockToleranceSeconds * 1000;

  return observeVerifications(async function verifySignedJwt(token: string, frontChecked = false) {
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
    const now = config.now();
    let cacheKey: string | undefined;
    if (cache !== undefined) {
      cacheKey = verifiedCacheKey(token);
      const hit = cache.get(cacheKey);
      if (hit !== undefined) {
        if (now <= hit.validUntilMs && keySet.usable(hit.kid, now) !== undefined) {
          keySet.maintain(now);
          return hit.claims as Claims;
        }
        cache.delete(cacheKey);
      }
    }

    const jws = parseCompactJws(token);
    const kid = checkHeader(jws.header, algorithm);
    if (jws.signaturePart === SIGNATURE_REMOVED_BY_GOOGLE) {
      if (!frontChecked) {
        throw new IdTokenVerificationError('bad_signature', config.removedSignatureRefusal);
      }
      // Google's front verified this token and removed its signature: claims only, not cached.
      return checkClaims<Claims>(decodePayload(jws), rules, now);
    }
    if (jws.signaturePart === '') {
      throw new IdTokenVerificationError('bad_signature', 'signature is missing');
    }
    if (typeof kid !== 'string' || kid === '') {
      throw new IdTokenVerificationError('unknown_key', 'header kid is missing');
    }

    let payload: Record<string, unknown> | undefined;
    let key = keySet.usable(kid, now);
    if (key === undefined) {
      // This token may cost a key-set request: only if its claims could be valid.
      payload = decodePayload(jws);
      plausibleClaims(payload, rules, now);
      key = await keySet.getKey(kid, now);
    } else {
      keySet.maintain(now);
    }
    if (!signatureVerifies(jws, key, algorithm)) {
      throw new IdTokenVerificationError(
        'bad_signature',
        'signature does not verify with the published key',
      );
    }
    const claims = checkClaims<Claims>(payload ?? decodePayload(jws), rules, now);
    if (cache !== undefined && cacheKey !== undefined) {
      cache.set(cacheKey, {claims, kid, validUntilMs: claims.exp * 1000 + toleranceMs});
    }
    return claims;
  });
}
