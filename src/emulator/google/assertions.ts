/**
 * Checks a JWT signed by a service-account key the emulator issued: the JWT-bearer
 * assertion sent to `/token`, and the self-signed JWT some clients send as a bearer token.
 */
import type {EmulatorContext} from './context.js';
import {decodeJws, numericClaim, stringClaim, verifyRs256} from './jwt.js';

/** Allowed clock difference between a client and the emulator, seconds. */
export const CLOCK_SKEW_SECONDS = 300;

/** Longest accepted `exp - iat` of an assertion, seconds (Google's limit). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 3600;

/** The outcome of {@link checkServiceAccountJwt}. */
export type ServiceAccountJwtCheck =
  | {ok: true; email: string; payload: Record<string, unknown>}
  | {
      ok: false;
      reason: 'malformed' | 'unknown_account' | 'bad_signature' | 'bad_audience' | 'bad_timing';
      description: string;
    };

/** What {@link checkServiceAccountJwt} requires. */
export interface ServiceAccountJwtRules {
  /** Accepted `aud` values; a function decides per value. */
  audience: (aud: string | undefined) => boolean;
  /** Human description of the expected audience, for the error text. */
  expectedAudience: string;
}

/** Verifies signature (against the issued key, by `kid` or by `iss`), audience and timing. */
export function checkServiceAccountJwt(
  context: EmulatorContext,
  token: string,
  rules: ServiceAccountJwtRules,
): ServiceAccountJwtCheck {
  const jws = decodeJws(token);
  if (!jws)
    return {
      ok: false,
      reason: 'malformed',
      description: 'Invalid JWT: the assertion is not a compact JWS.',
    };
  const iss = stringClaim(jws.payload, 'iss');
  if (!iss)
    return {ok: false, reason: 'malformed', description: 'Invalid JWT: the iss claim is missing.'};
  const kid = stringClaim(jws.header, 'kid');
  const byKid = kid === undefined ? undefined : context.identities.keyById(kid);
  const candidates = byKid ? [byKid] : context.identities.keysFor(iss);
  if (candidates.length === 0) {
    return {ok: false, reason: 'unknown_account', description: 'Invalid grant: account not found'};
  }
  if (byKid && byKid.email !== iss) {
    return {ok: false, reason: 'bad_signature', description: 'Invalid JWT Signature.'};
  }
  if (!candidates.some((key) => verifyRs256(jws, key.publicKey))) {
    return {ok: false, reason: 'bad_signature', description: 'Invalid JWT Signature.'};
  }
  if (!rules.audience(stringClaim(jws.payload, 'aud'))) {
    return {
      ok: false,
      reason: 'bad_audience',
      description: `Invalid JWT: Failed audience check. The right audience is ${rules.expectedAudience}.`,
    };
  }
  const iat = numericClaim(jws.payload, 'iat');
  const exp = numericClaim(jws.payload, 'exp');
  const now = context.now() / 1000;
  if (
    iat === undefined ||
    exp === undefined ||
    exp <= iat ||
    exp - iat > MAX_ASSERTION_LIFETIME_SECONDS ||
    iat > now + CLOCK_SKEW_SECONDS ||
    exp < now - CLOCK_SKEW_SECONDS
  ) {
    return {
      ok: false,
      reason: 'bad_timing',
      description:
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    };
  }
  return {ok: true, email: iss, payload: jws.payload};
}
