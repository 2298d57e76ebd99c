/** Test helpers for the Google emulator tests: assertions, form posts, JWT decoding. */
import {SignJWT, importPKCS8} from 'jose';
import {decodeJwtHeader, decodeJwtPayload} from '../../../src/tokens/jwt-claims.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_AUD = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/** Signs a JWT-bearer assertion with a key file's private key; claims override the defaults. */
export async function signAssertion(
  key: {json: Record<string, string>},
  claims: Record<string, unknown> = {},
  options: {nowSeconds?: number; kid?: string | null; privateKeyPem?: string} = {},
): Promise<string> {
  const iat = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const privateKey = await importPKCS8(
    options.privateKeyPem ?? String(key.json.private_key),
    'RS256',
  );
  const header: {alg: string; kid?: string} = {alg: 'RS256'};
  if (options.kid !== null) header.kid = options.kid ?? key.json.private_key_id;
  return new SignJWT({iss: key.json.client_email, aud: TOKEN_AUD, iat, exp: iat + 3600, ...claims})
    .setProtectedHeader(header)
    .sign(privateKey);
}

/** POSTs a form and returns status and parsed JSON. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{status: number; body: Record<string, unknown>}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded', ...headers},
    body: new URLSearchParams(fields),
  });
  return {status: res.status, body: (await res.json()) as Record<string, unknown>};
}

/** POSTs JSON and returns status and parsed JSON. */
export async function postJson(
  url: string,
  value: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; body: Record<string, unknown>}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: JSON.stringify(value),
  });
  return {status: res.status, body: (await res.json()) as Record<string, unknown>};
}

/** The claims of a JWT (throws when it is not one). */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = decodeJwtPayload(token);
  if (!payload) throw new Error('not a JWT');
  return payload;
}

/** The header of a JWT (throws when it is not one). */
export function headerOf(token: string): Record<string, unknown> {
  const header = decodeJwtHeader(token);
  if (!header) throw new Error('not a JWT');
  return header;
}
