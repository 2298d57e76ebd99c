import {IdTokenVerificationError} from './id-token-verification-error.js';

/** What the claims of a signed token are checked against. */
export interface ClaimRules {
  readonly audiences: ReadonlySet<string>;
  readonly issuers: ReadonlySet<string>;
  readonly clockToleranceSeconds: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly allowedEmails: ReadonlySet<string> | undefined;
  readonly allowedEmailDomains: ReadonlySet<string> | undefined;
  readonly requireEmailVerified: boolean;
}

/** The claims every checked token has, typed. */
export interface CheckedClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly [claim: string]: unknown;
}

function fail(
  code: ConstructorParameters<typeof IdTokenVerificationError>[0],
  message: string,
): never {
  throw new IdTokenVerificationError(code, message);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Checks the claims of a token whose signature was already verified (or, behind a trusted
 * Cloud Run front, removed by Google) against the rules, at `nowMs`. Returns the frozen, typed
 * claims or throws an {@link IdTokenVerificationError} with exactly one code. Messages name the
 * claim, never its value when the value came from the token.
 */
export function checkClaims<Claims extends CheckedClaims>(
  payload: Record<string, unknown>,
  options: ClaimRules,
  nowMs: number,
): Claims {
  const {iss, aud, sub, iat, exp, nbf} = payload;
  if (typeof iss !== 'string') fail('malformed', 'claim iss is missing or not a string');
  if (typeof sub !== 'string' || sub === '') {
    fail('malformed', 'claim sub is missing or not a string');
  }
  if (!isFiniteNumber(iat)) fail('malformed', 'claim iat is missing or not a number');
  if (!isFiniteNumber(exp)) fail('malformed', 'claim exp is missing or not a number');
  if (nbf !== undefined && !isFiniteNumber(nbf)) fail('malformed', 'claim nbf is not a number');
  if (exp < iat) fail('malformed', 'claim exp is before iat');

  if (!options.issuers.has(iss)) fail('bad_issuer', 'claim iss is not an accepted issuer');
  if (typeof aud !== 'string') fail('bad_audience', 'claim aud must be a single string audience');
  if (!options.audiences.has(aud)) fail('bad_audience', 'claim aud does not name this service');

  const now = nowMs / 1000;
  const tolerance = options.clockToleranceSeconds;
  if (iat > now + tolerance) {
    fail('not_yet_valid', 'claim iat is in the future beyond the clock tolerance');
  }
  if (nbf !== undefined && nbf > now + tolerance) {
    fail('not_yet_valid', 'claim nbf is in the future beyond the clock tolerance');
  }
  if (now > exp + tolerance) fail('expired', 'claim exp is in the past beyond the clock tolerance');
  const maxLifetime = options.maxTokenLifetimeSeconds;
  if (exp - iat > maxLifetime || exp - now > maxLifetime) {
    fail('lifetime_too_long', `claim exp is more than ${maxLifetime} seconds after iat or now`);
  }

  checkPrincipal(payload, options);
  // The payload was parsed for this call and nothing else holds it: freeze it as it is.
  return Object.freeze(payload) as Claims;
}

const NO_PRINCIPAL_RULES = {
  allowedEmails: undefined,
  allowedEmailDomains: undefined,
  requireEmailVerified: false,
} as const;

/**
 * The claim checks that need no signature and cost nothing: issuer, audience and time. Used
 * before a token whose key is not at hand may cause a key-set request, so that junk (another
 * service's token, an expired one, random bytes) never reaches the network.
 */
export function plausibleClaims(
  payload: Record<string, unknown>,
  options: ClaimRules,
  nowMs: number,
): void {
  checkClaims(payload, {...options, ...NO_PRINCIPAL_RULES}, nowMs);
}

function checkPrincipal(payload: Record<string, unknown>, options: ClaimRules): void {
  const {allowedEmails, allowedEmailDomains, requireEmailVerified} = options;
  const ruled = allowedEmails !== undefined || allowedEmailDomains !== undefined;
  if (!ruled && !requireEmailVerified) return;
  const email = typeof payload.email === 'string' ? payload.email.toLowerCase() : undefined;
  if (email === undefined) {
    fail('forbidden_principal', 'claim email is missing (mint the token with the email included)');
  }
  if (requireEmailVerified && payload.email_verified !== true) {
    fail('forbidden_principal', 'claim email_verified is not true');
  }
  if (!ruled) return;
  if (allowedEmails?.has(email)) return;
  const at = email.lastIndexOf('@');
  if (at > 0 && allowedEmailDomains?.has(email.slice(at + 1))) return;
  fail('forbidden_principal', 'claim email is not an allowed principal');
}
