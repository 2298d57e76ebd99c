/**
 * Internal: what the ID token verifier reports: a counter of verifications by result, and
 * by the `IdTokenVerificationError` code when a token is rejected. Nothing about the token.
 */
import {instruments} from './instruments.js';

/**
 * `verify`, counting each outcome: `result: accept`, or `result: reject` with the error's
 * `code` (`other` for an error without one). The verifier itself is unchanged; without
 * `@opentelemetry/api` the call goes straight through.
 */
export function observeVerifications<Args extends unknown[], T>(
  verify: (...args: Args) => Promise<T>,
): (...args: Args) => Promise<T> {
  return (...args) => {
    const ins = instruments();
    if (!ins) return verify(...args);
    return verify(...args).then(
      (claims) => {
        ins.verifications.add(1, {result: 'accept'});
        return claims;
      },
      (error: unknown) => {
        const code = (error as {code?: unknown} | null)?.code;
        ins.verifications.add(1, {
          result: 'reject',
          code: typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'other',
        });
        throw error;
      },
    );
  };
}
