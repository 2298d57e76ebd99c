import type {AuthClient} from 'google-auth-library';
import {jwtExpiresAt} from '../jwt-claims.js';
import type {Token} from '../token-source.js';
import {malformedAnswer, type FailureContext} from './exchange-failure.js';

/**
 * Expiry assumed for an access token whose answer carried none, in milliseconds: short, so
 * a wrong guess costs a refresh, not a failed call. Google's access tokens live 3600 s.
 */
export const ASSUMED_ACCESS_TOKEN_LIFETIME_MS = 10 * 60 * 1000;

/** An ID token as a {@link Token}: it must be a JWT, and its expiry is its `exp`. */
export function idToken(value: unknown, context: FailureContext): Token {
  if (typeof value !== 'string' || value.length === 0) {
    throw malformedAnswer(context, 'the answer carried no ID token');
  }
  const expiresAt = jwtExpiresAt(value);
  if (expiresAt === undefined) {
    throw malformedAnswer(context, 'the ID token in the answer is not a JWT with an `exp` claim');
  }
  return {value, expiresAt};
}

/** An access token as a {@link Token}, with its expiry from `expiry_date`, `expireTime` or the assumed lifetime. */
export function accessToken(value: unknown, expiresAt: unknown, context: FailureContext): Token {
  if (typeof value !== 'string' || value.length === 0) {
    throw malformedAnswer(context, 'the answer carried no access token');
  }
  let expiry: number | undefined;
  if (typeof expiresAt === 'number' && Number.isFinite(expiresAt) && expiresAt > 0)
    expiry = expiresAt;
  else if (typeof expiresAt === 'string') {
    const parsed = Date.parse(expiresAt);
    if (!Number.isNaN(parsed)) expiry = parsed;
  }
  return {value, expiresAt: expiry ?? Date.now() + ASSUMED_ACCESS_TOKEN_LIFETIME_MS};
}

/** A fresh access token from a google-auth-library client (built with no client-side reuse). */
export async function clientAccessToken(
  client: AuthClient,
  context: FailureContext,
): Promise<Token> {
  const {token} = await client.getAccessToken();
  return accessToken(token, client.credentials?.expiry_date, context);
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, {once: true});
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
