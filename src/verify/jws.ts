/**
 * Compact JWS, the way this package reads it: strict parsing, a header policy that fails
 * closed, and signature checks with `node:crypto` on `KeyObject`s (synchronous, no WebCrypto
 * round trip). The algorithm always comes from the verifier's configuration, never from the
 * token.
 */
import {verify as verifySignature} from 'node:crypto';
import type {KeyObject} from 'node:crypto';
import {IdTokenVerificationError} from './id-token-verification-error.js';

/** The signature algorithms this package verifies: RS256 (Google ID tokens), ES256 (IAP). */
export type JwsAlgorithm = 'RS256' | 'ES256';

/** What Cloud Run puts in place of the signature of a token it forwards to the container. */
export const SIGNATURE_REMOVED_BY_GOOGLE = 'SIGNATURE_REMOVED_BY_GOOGLE';

/** A compact JWS split and its header decoded; nothing verified yet. */
export interface ParsedJws {
  /** The protected header. */
  readonly header: Record<string, unknown>;
  /** The payload segment, still base64url. */
  readonly payloadPart: string;
  /** The signature segment, still base64url (may be `SIGNATURE_REMOVED_BY_GOOGLE`). */
  readonly signaturePart: string;
  /** `header.payload`, the signed bytes (ASCII). */
  readonly signingInput: string;
}

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Header parameters by which a token would name or carry its own key. Google never sends them;
 * a token that does is refused rather than ignored, so no code path can ever follow them.
 */
const KEY_INJECTION = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Splits a compact JWS and decodes its header; throws `malformed` when it is not one. */
export function parseCompactJws(token: string): ParsedJws {
  if (!COMPACT.test(token)) {
    throw new IdTokenVerificationError(
      'malformed',
      token.split('.').length !== 3
        ? 'token is not a compact JWS of three dot-separated segments'
        : 'token segments are not base64url',
    );
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return {
    header: decodeJsonObject(token.slice(0, first), 'header'),
    payloadPart: token.slice(first + 1, second),
    signaturePart: token.slice(second + 1),
    signingInput: token.slice(0, second),
  };
}

/**
 * The header policy: `alg` must be `algorithm` (so `none`, `HS256` and any other are refused
 * whatever key they name), no `crit`, no key-carrying parameter. Returns the `kid`, or
 * undefined when there is none (the caller decides what that means).
 */
export function checkHeader(header: Record<string, unknown>, algorithm: JwsAlgorithm): unknown {
  if (header.alg !== algorithm) {
    throw new IdTokenVerificationError('bad_signature', `header alg is not ${algorithm}`);
  }
  if (header.crit !== undefined) {
    throw new IdTokenVerificationError('malformed', 'header crit is not supported');
  }
  for (const name of KEY_INJECTION) {
    if (header[name] !== undefined) {
      throw new IdTokenVerificationError(
        'bad_signature',
        `header ${name} is refused: keys come only from the configured key set`,
      );
    }
  }
  return header.kid;
}

/** Whether `signaturePart` verifies `signingInput` under `key` with `algorithm`. */
export function signatureVerifies(
  jws: ParsedJws,
  key: KeyObject,
  algorithm: JwsAlgorithm,
): boolean {
  const signature = Buffer.from(jws.signaturePart, 'base64url');
  const data = Buffer.from(jws.signingInput, 'latin1');
  try {
    if (algorithm === 'ES256') {
      if (signature.length !== 64) return false;
      return verifySignature('sha256', data, {key, dsaEncoding: 'ieee-p1363'}, signature);
    }
    return verifySignature('sha256', data, key, signature);
  } catch {
    return false;
  }
}

/** The payload of `jws` as a JSON object; throws `malformed` otherwise. */
export function decodePayload(jws: ParsedJws): Record<string, unknown> {
  return decodeJsonObject(jws.payloadPart, 'payload');
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new IdTokenVerificationError('malformed', `token ${part} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IdTokenVerificationError('malformed', `token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
