/**
 * The claims of a verified IAP assertion (`x-goog-iap-jwt-assertion`). `iss`, `aud`, `sub`,
 * `iat` and `exp` are always present and typed; the rest are as IAP sent them. Returned
 * objects are frozen.
 *
 * @example
 * const claims = await verifyIapJwt(req.headers['x-goog-iap-jwt-assertion'], {audience});
 * claims.email; // 'user@example.com'
 */
export interface IapJwtClaims {
  /** Issuer: always `https://cloud.google.com/iap`. */
  readonly iss: string;
  /**
   * Audience: `/projects/NUMBER/global/backendServices/ID` (load balancer),
   * `/projects/NUMBER/apps/PROJECT_ID` (App Engine), or the form IAP uses for the resource.
   */
  readonly aud: string;
  /** Subject: the user's stable id, `accounts.google.com:NUMERIC_ID`. */
  readonly sub: string;
  /** The user's email (no `accounts.google.com:` prefix here, unlike IAP's unsigned header). */
  readonly email?: string;
  /** Hosted domain of a Google Workspace user. */
  readonly hd?: string;
  /** Issued at, in epoch seconds. */
  readonly iat: number;
  /** Expires at, in epoch seconds (IAP assertions live about 10 minutes). */
  readonly exp: number;
  /** Any other claim (`google`, `identity_source`, ...), unchecked. */
  readonly [claim: string]: unknown;
}
