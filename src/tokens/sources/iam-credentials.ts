import type {gaxios} from 'google-auth-library';

/**
 * The two IAM Credentials calls that impersonation needs, made through a source's routed
 * transporter: `generateIdToken` and `generateAccessToken` for a target service account,
 * with the caller's access token as bearer.
 */

/** IAM Credentials' base URL (routed to the emulator by the transporter's fetch when configured). */
export const IAM_CREDENTIALS_URL =
  'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/';

/** What both calls take. */
export interface IamCallOptions {
  /** The service account to mint for (email). */
  readonly target: string;
  /** Delegation chain, emails or `projects/-/serviceAccounts/EMAIL`, caller side first. */
  readonly delegates: readonly string[];
  /** The caller's OAuth2 access token (cloud-platform scope). */
  readonly callerToken: string;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** IAM takes delegates as resource names; an email becomes `projects/-/serviceAccounts/EMAIL`. */
export function delegateResourceName(delegate: string): string {
  return delegate.startsWith('projects/') ? delegate : `projects/-/serviceAccounts/${delegate}`;
}

function request(
  transporter: gaxios.Gaxios,
  method: 'generateIdToken' | 'generateAccessToken',
  options: IamCallOptions,
  body: Record<string, unknown>,
): Promise<gaxios.GaxiosResponse<unknown>> {
  return transporter.request<unknown>({
    url: `${IAM_CREDENTIALS_URL}${options.target}:${method}`,
    method: 'POST',
    headers: {authorization: `Bearer ${options.callerToken}`, 'content-type': 'application/json'},
    data: {...body, delegates: options.delegates.map(delegateResourceName)},
    responseType: 'json',
    ...(options.signal ? {signal: options.signal} : {}),
  });
}

/** `generateIdToken`: the raw answer's `token` (unchecked; the caller validates it). */
export async function generateIdToken(
  transporter: gaxios.Gaxios,
  options: IamCallOptions & {readonly audience: string},
): Promise<unknown> {
  const res = await request(transporter, 'generateIdToken', options, {
    audience: options.audience,
    includeEmail: true,
  });
  return field(res.data, 'token');
}

/** `generateAccessToken`: the raw answer's `accessToken` and `expireTime` (unchecked). */
export async function generateAccessToken(
  transporter: gaxios.Gaxios,
  options: IamCallOptions & {readonly scopes: readonly string[]; readonly lifetimeSeconds: number},
): Promise<{accessToken: unknown; expireTime: unknown}> {
  const res = await request(transporter, 'generateAccessToken', options, {
    scope: [...options.scopes],
    lifetime: `${options.lifetimeSeconds}s`,
  });
  return {accessToken: field(res.data, 'accessToken'), expireTime: field(res.data, 'expireTime')};
}

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null
    ? (data as Record<string, unknown>)[name]
    : undefined;
}
