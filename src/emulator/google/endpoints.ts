/**
 * The endpoints the Google auth emulator serves, as named in its request counts and faults.
 */

/**
 * One endpoint of the emulator:
 * - `token`: `POST /token` (oauth2.googleapis.com: JWT-bearer and refresh-token grants)
 * - `sts`: `POST /v1/token` (sts.googleapis.com token exchange)
 * - `iam.generateIdToken`, `iam.generateAccessToken`: iamcredentials.googleapis.com
 * - `jwks`: `/oauth2/v3/certs` (JWK set) and `/oauth2/v1/certs` (PEM certificates)
 * - `openid-configuration`: `/.well-known/openid-configuration`
 * - `iap.jwks`: `/iap/verify/public_key-jwk` (IAP's ES256 keys, www.gstatic.com)
 * - `metadata.detect`: `/computeMetadata/v1/instance` and the other environment probes
 *   (directory listings, `universe/universe-domain`, `instance/zone`, ...)
 * - `metadata.project`: `/computeMetadata/v1/project/...`
 * - `metadata.email`, `metadata.identity`, `metadata.token`: `.../service-accounts/{sa}/...`
 */
export type EmulatorEndpoint =
  | 'token'
  | 'sts'
  | 'iam.generateIdToken'
  | 'iam.generateAccessToken'
  | 'jwks'
  | 'openid-configuration'
  | 'iap.jwks'
  | 'metadata.detect'
  | 'metadata.project'
  | 'metadata.email'
  | 'metadata.identity'
  | 'metadata.token';

/** Every {@link EmulatorEndpoint}, in a stable order. */
export const EMULATOR_ENDPOINTS: readonly EmulatorEndpoint[] = [
  'token',
  'sts',
  'iam.generateIdToken',
  'iam.generateAccessToken',
  'jwks',
  'openid-configuration',
  'iap.jwks',
  'metadata.detect',
  'metadata.project',
  'metadata.email',
  'metadata.identity',
  'metadata.token',
];

/** Live request counts of an emulator. */
export interface EmulatorRequestCounts {
  /** Every request received, including faulted, rejected and unknown-path ones. */
  total: number;
  /** Requests per endpoint, including faulted and rejected ones. */
  byEndpoint: Record<EmulatorEndpoint, number>;
}

/** Whether `value` names an {@link EmulatorEndpoint}. */
export function isEmulatorEndpoint(value: unknown): value is EmulatorEndpoint {
  return typeof value === 'string' && (EMULATOR_ENDPOINTS as readonly string[]).includes(value);
}

/** Sets every count of `counts` to zero, in place. */
export function resetRequestCounts(counts: EmulatorRequestCounts): void {
  counts.total = 0;
  for (const endpoint of EMULATOR_ENDPOINTS) counts.byEndpoint[endpoint] = 0;
}

/** Fresh, zeroed counts. */
export function emptyRequestCounts(): EmulatorRequestCounts {
  const counts = {total: 0, byEndpoint: {} as Record<EmulatorEndpoint, number>};
  resetRequestCounts(counts);
  return counts;
}
