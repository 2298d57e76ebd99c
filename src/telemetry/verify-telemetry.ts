/**
 * Internal: what the ID token verifier reports: a counter of verifications by result, and
 * by the `IdTokenVerificationError` code when a token is rejected. Nothing about the token.
 */
import {instruments} from './instruments.js';

/**
 * `verify`, counting each outcome: `result: accept`, or `result: reject` with the error's
 * `code` (`other` for an error without one). The verifier itself is unchanged.
 */
export function observeVerifications<T>(
  verify: (token: string) => Promise<T>,
): (token: string) => Promise<T> {
  return (token) =>
    verify(token).then(
      (claims) => {
        instruments()?.verifications.add(1, {result: 'accept'});
        return claims;
      },
      (error: unknown) => {
        const code = (error as {code?: unknown} | null)?.code;
        instruments()?.verifications.add(1, {
          result: 'reject',
          code: typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'other',
        });
        throw error;
      },
    );
}
