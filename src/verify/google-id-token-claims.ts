/**
 * The claims of a verified Google ID token. `iss`, `aud`, `sub`, `iat` and `exp` are always
 * present and typed; the rest are as Google sent them. Returned objects are frozen.
 *
 * @example
 * const claims = await verifyGoogleIdToken(token, {audience: 'https://svc.example.com'});
 * claims.email; // 'caller@my-project.iam.gserviceaccount.com'
 */
export interface GoogleIdTokenClaims {
  /** Issuer: `https://accounts.google.com` or `accounts.google.com`. */
  readonly iss: string;
  /** Audience: the value this service accepted (one string; Google never sends a list). */
  readonly aud: string;
  /** Subject: the principal's stable numeric id, as a string. */
  readonly sub: string;
  /** Authorized party: the OAuth client or service account that asked for the token. */
  readonly azp?: string;
  /** The principal's email, when the token was minted with it. */
  readonly email?: string;
  /** Whether Google verified that email. */
  readonly email_verified?: boolean;
  /** Issued at, in epoch seconds. */
  readonly iat: number;
  /** Expires at, in epoch seconds. */
  readonly exp: number;
  /** Not before, in epoch seconds (Google does not normally send it). */
  readonly nbf?: number;
  /** Hosted domain of a Google Workspace user. */
  readonly hd?: string;
  /** Any other claim, unchecked. */
  readonly [claim: string]: unknown;
}
