import type {IncomingHttpHeaders} from 'node:http';
import {SIGNATURE_REMOVED_BY_GOOGLE} from '../../verify/create-id-token-verifier.js';
import type {FrontMode} from './front-responses.js';

/** Where a caller put its token, and whether it is a bearer token at all. */
export type PresentedToken =
  | {readonly kind: 'none'}
  | {readonly kind: 'unusable'; readonly header: string}
  | {readonly kind: 'bearer'; readonly header: string; readonly token: string};

/**
 * The headers each front reads, in order: the first one present and not blank is the one
 * checked; the others pass through untouched. Cloud Run checks `X-Serverless-Authorization`
 * instead of `Authorization` when present; IAP checks `Proxy-Authorization` before
 * `Authorization`.
 */
const CREDENTIAL_HEADERS: Record<FrontMode, readonly string[]> = {
  'cloud-run': ['x-serverless-authorization', 'authorization'],
  iap: ['proxy-authorization', 'authorization'],
};

/**
 * Finds the token a front would check. A header that is absent or blank counts as no token;
 * a header that is present but not `Bearer <token>` is `unusable` (Cloud Run answers 401).
 */
export function findPresentedToken(headers: IncomingHttpHeaders, mode: FrontMode): PresentedToken {
  for (const header of CREDENTIAL_HEADERS[mode]) {
    const raw = headers[header];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!value) continue;
    const match = /^bearer\s+(\S+)$/i.exec(value);
    return match?.[1] ? {kind: 'bearer', header, token: match[1]} : {kind: 'unusable', header};
  }
  return {kind: 'none'};
}

/**
 * The token as a Cloud Run container receives it: header and payload intact, the signature
 * segment replaced by `SIGNATURE_REMOVED_BY_GOOGLE`, so it cannot be replayed elsewhere.
 */
export function removeSignature(token: string): string {
  const lastDot = token.lastIndexOf('.');
  return `${lastDot < 0 ? token : token.slice(0, lastDot)}.${SIGNATURE_REMOVED_BY_GOOGLE}`;
}
