import type {IncomingHttpHeaders} from 'node:http';

/** Where a request's token was found, or why none was. */
export type BearerTokenResult =
  | {token: string; header: 'x-serverless-authorization' | 'authorization'}
  | {code: 'missing' | 'malformed'; message: string};

/**
 * Reads the ID token of a request the way Cloud Run's front does: `X-Serverless-Authorization`
 * when that header is present (then `Authorization` is left for the application), else
 * `Authorization`. The scheme must be `Bearer` (any case) followed by one token. An absent,
 * empty or whitespace-only header, or `Bearer` alone, is `missing`; another scheme, several
 * values or extra words are `malformed`.
 *
 * @example
 * readBearerToken({authorization: 'bearer eyJ...'}) // {token: 'eyJ...', header: 'authorization'}
 */
export function readBearerToken(headers: IncomingHttpHeaders): BearerTokenResult {
  const serverless = headers['x-serverless-authorization'];
  const header = serverless !== undefined ? 'x-serverless-authorization' : 'authorization';
  const value: unknown = serverless !== undefined ? serverless : headers.authorization;
  if (value === undefined) return {code: 'missing', message: 'no Authorization header'};
  if (typeof value !== 'string') {
    return {code: 'malformed', message: `${header} header appears more than once`};
  }
  const trimmed = value.trim();
  if (trimmed === '') return {code: 'missing', message: `${header} header is empty`};
  const match = /^(\S+)(?:\s+(.*))?$/s.exec(trimmed);
  const scheme = match?.[1] ?? '';
  const rest = (match?.[2] ?? '').trim();
  if (scheme.toLowerCase() !== 'bearer') {
    return {code: 'malformed', message: `${header} header scheme is not Bearer`};
  }
  if (rest === '') return {code: 'missing', message: `${header} header has no token after Bearer`};
  if (/\s/.test(rest)) {
    return {code: 'malformed', message: `${header} header has more than one value after Bearer`};
  }
  return {token: rest, header};
}
