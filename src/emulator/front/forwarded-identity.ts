import {decodeJwtPayload} from '../../tokens/jwt-claims.js';

/** Header values as Node and the MCP SDK hand them over (lower-case names). */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** The name `whoami` reports when no forwarded identity is found. */
export const ANONYMOUS = 'anonymous';

/**
 * The caller's email as a Cloud Run container sees it: read from the token the front
 * forwarded, decoded WITHOUT verification (the front already verified it and replaced the
 * signature with `SIGNATURE_REMOVED_BY_GOOGLE`). Looks, in order, at
 * `X-Serverless-Authorization`, IAP's `X-Goog-Authenticated-User-Email`
 * (`accounts.google.com:EMAIL`), then `Authorization`. Returns `undefined` when none of them
 * carries an email.
 *
 * Only for the demo server: never an authorization decision.
 *
 * @example
 * forwardedEmail({authorization: 'Bearer h.p.SIGNATURE_REMOVED_BY_GOOGLE'}) // 'sa@p.iam.gserviceaccount.com'
 */
export function forwardedEmail(headers: HeaderBag): string | undefined {
  return (
    emailFromBearer(first(headers['x-serverless-authorization'])) ??
    emailFromIapHeader(first(headers['x-goog-authenticated-user-email'])) ??
    emailFromBearer(first(headers['authorization']))
  );
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function emailFromBearer(value: string | undefined): string | undefined {
  const match = value ? /^\s*bearer\s+(\S+)\s*$/i.exec(value) : null;
  if (!match?.[1]) return undefined;
  const email = decodeJwtPayload(match[1])?.email;
  return typeof email === 'string' && email !== '' ? email : undefined;
}

function emailFromIapHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const email = value.startsWith('accounts.google.com:')
    ? value.slice('accounts.google.com:'.length)
    : value;
  return email === '' ? undefined : email;
}
