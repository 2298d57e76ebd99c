import {createHash} from 'node:crypto';

/**
 * The only form in which a token, key or assertion may appear in a log line or a message:
 * `sha256:` and the first 8 hex digits of its SHA-256.
 *
 * @example
 * tokenFingerprint('eyJhbGciOi...') // 'sha256:1f2e3d4c'
 */
export function tokenFingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}
