/**
 * RS256 compact JWS: signing (the emulator's ID tokens) and strict decoding plus signature
 * checks (assertions and self-signed JWTs presented to the emulator). Node's crypto only.
 */
import {sign, verify} from 'node:crypto';
import type {KeyObject} from 'node:crypto';

/** A decoded, not yet verified, compact JWS. */
export interface DecodedJws {
  /** The protected header. */
  header: Record<string, unknown>;
  /** The claims. */
  payload: Record<string, unknown>;
  /** `base64url(header) + '.' + base64url(payload)`. */
  signingInput: string;
  /** The raw signature bytes. */
  signature: Buffer;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs `payload` with RS256; the header carries `kid` when given. */
export function signRs256(
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  kid?: string,
): string {
  const header = kid === undefined ? {alg: 'RS256', typ: 'JWT'} : {alg: 'RS256', kid, typ: 'JWT'};
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function decodeObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a compact JWS without checking it; `undefined` when it is not one. */
export function decodeJws(token: string): DecodedJws | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) return undefined;
  const header = decodeObject(h);
  const payload = decodeObject(p);
  if (!header || !payload) return undefined;
  return {header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url')};
}

/** Whether `jws` is RS256 and its signature verifies with `publicKey`. */
export function verifyRs256(jws: DecodedJws, publicKey: KeyObject): boolean {
  if (jws.header.alg !== 'RS256') return false;
  try {
    return verify('sha256', Buffer.from(jws.signingInput), publicKey, jws.signature);
  } catch {
    return false;
  }
}

/** A numeric claim, or `undefined` when absent or not a finite number. */
export function numericClaim(payload: Record<string, unknown>, name: string): number | undefined {
  const value = payload[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A string claim, or `undefined` when absent or not a string. */
export function stringClaim(payload: Record<string, unknown>, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' ? value : undefined;
}
