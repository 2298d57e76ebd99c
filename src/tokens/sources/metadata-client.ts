/**
 * The two token reads of the metadata server (Cloud Run, GKE, GCE), made through a source's
 * transporter: `service-accounts/{account}/identity?audience=…&format=full` (an ID token)
 * and `service-accounts/{account}/token?scopes=…` (an access token). They follow the wire
 * format google-auth-library's `Compute` client and gcp-metadata use (the same host
 * variables, the `Metadata-Flavor: Google` header both ways), but go through the transporter
 * so that the {@link TokenCache}'s retry policy is the only one: gcp-metadata retries every
 * read on its own, three times, with no way to turn that off.
 */
import type {gaxios} from 'google-auth-library';
import {MalformedAnswerError} from '../transient-failure.js';

/** The path under the host that every metadata read starts with. */
const BASE_PATH = '/computeMetadata/v1';

/** The metadata server's base URL: `GCE_METADATA_IP`, else `GCE_METADATA_HOST`, else 169.254.169.254 (as gcp-metadata reads them, from `process.env`). */
export function metadataBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.GCE_METADATA_IP || env.GCE_METADATA_HOST || '169.254.169.254';
  const origin = /^https?:\/\//.test(host) ? host : `http://${host}`;
  return new URL(BASE_PATH, origin).href;
}

/** An answer that did not come from a metadata server (no `Metadata-Flavor: Google`): not retried. */
export class NotMetadataServerError extends Error {
  override readonly name = 'NotMetadataServerError';
}

async function read(
  transporter: gaxios.Gaxios,
  path: string,
  params: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<string> {
  const response = await transporter.request<unknown>({
    url: `${metadataBaseUrl()}/instance/${path}`,
    params,
    headers: {'Metadata-Flavor': 'Google'},
    responseType: 'text',
    ...(signal ? {signal} : {}),
  });
  const flavor = response.headers.get('metadata-flavor');
  if (flavor !== 'Google') {
    throw new NotMetadataServerError(
      `the answer lacked the Metadata-Flavor: Google header (got ${flavor ? JSON.stringify(flavor.slice(0, 40)) : 'none'}), so it did not come from a metadata server`,
    );
  }
  return typeof response.data === 'string' ? response.data : String(response.data ?? '');
}

/** The raw ID token text for `audience` (unchecked; the caller validates it). */
export function metadataIdToken(
  transporter: gaxios.Gaxios,
  account: string,
  audience: string,
  signal?: AbortSignal,
): Promise<string> {
  return read(
    transporter,
    `service-accounts/${account}/identity`,
    {audience, format: 'full'},
    signal,
  );
}

/** An access token for `scopes` and its expiry in epoch milliseconds. */
export async function metadataAccessToken(
  transporter: gaxios.Gaxios,
  account: string,
  scopes: readonly string[],
  signal?: AbortSignal,
): Promise<{accessToken: unknown; expiresAt: number | undefined}> {
  const text = await read(
    transporter,
    `service-accounts/${account}/token`,
    scopes.length > 0 ? {scopes: scopes.join(',')} : {},
    signal,
  );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MalformedAnswerError('the access token answer is not JSON');
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const expiresIn = record.expires_in;
  return {
    accessToken: record.access_token,
    expiresAt:
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
        ? Date.now() + expiresIn * 1000
        : undefined,
  };
}
