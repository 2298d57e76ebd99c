/**
 * Which failed token fetches are worth another attempt. Transient: Google answered 5xx, 408
 * or 429, the connection failed or was reset, the attempt timed out, or the answer was not
 * what Google sends (a body that does not parse, a token missing). Everything else is
 * permanent and reported at once: a refused grant (`invalid_grant`), a refused impersonation
 * (403), a key that cannot sign, a credential that cannot mint the token asked for, and any
 * error this code does not recognise.
 */
import {CredentialExchangeError} from '../credentials/errors.js';

/** What kind of transient failure it was (for messages and metrics), or `permanent`. */
export type FailureKind =
  'http_5xx' | 'http_429' | 'timeout' | 'network' | 'malformed' | 'permanent';

/** What the retry policy learns from one failed attempt. */
export interface FailureVerdict {
  readonly kind: FailureKind;
  /** The wait Google asked for (`Retry-After`), in milliseconds, when it asked. */
  readonly retryAfterMs?: number;
}

/** An answer arrived but is not what Google sends (the `cause` of a malformed-answer error). */
export class MalformedAnswerError extends Error {
  override readonly name = 'MalformedAnswerError';
}

/** Errors that already went through a retry policy: an outer policy never retries them again. */
const settled = new WeakSet<object>();

/** Marks `error` as the final word of a retry policy (its retries are spent or it was permanent). */
export function markSettled<T>(error: T): T {
  if (typeof error === 'object' && error !== null) settled.add(error);
  return error;
}

const MAX_DEPTH = 8;
const NETWORK_CODES =
  /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ENETDOWN|UND_ERR_\w+)$/;
/** google-auth-library's words for a 200 answer without the token in it. */
const EMPTY_ANSWER =
  /Failed to fetch ID token|No access token is returned|^Could not refresh access token\.?$/i;

/**
 * Classifies a failed attempt by walking its `cause` chain: the first HTTP status found
 * decides; without one, a lost connection, a timeout or a malformed answer is transient.
 * `timedOut` says the policy's own attempt timeout fired.
 */
export function classifyFailure(error: unknown, timedOut = false): FailureVerdict {
  if (timedOut) return {kind: 'timeout'};
  let current: unknown = error;
  let sawNoResponse = false;
  for (let depth = 0; depth < MAX_DEPTH && isObject(current); depth++) {
    if (settled.has(current)) return {kind: 'permanent'};
    const code = (current as {code?: unknown}).code;
    if (
      current instanceof CredentialExchangeError &&
      (code === 'id_token_unsupported' || code === 'unsupported_credential')
    ) {
      return {kind: 'permanent'};
    }
    const status = statusOf(current);
    if (status !== undefined) {
      if (status === 429) return withRetryAfter('http_429', current);
      if (status === 408 || (status >= 500 && status <= 599)) {
        return withRetryAfter('http_5xx', current);
      }
      return {kind: 'permanent'};
    }
    if (current instanceof MalformedAnswerError) return {kind: 'malformed'};
    const name = (current as {name?: unknown}).name;
    if (name === 'TimeoutError' || code === 'TimeoutError') return {kind: 'timeout'};
    if (typeof code === 'string' && NETWORK_CODES.test(code)) return {kind: 'network'};
    if (current instanceof Error && EMPTY_ANSWER.test(current.message)) return {kind: 'malformed'};
    if (
      current instanceof Error &&
      /socket hang up|other side closed|fetch failed/i.test(current.message)
    )
      sawNoResponse = true;
    // gaxios: a request error without a response is a failure to connect or to hear back.
    if (
      'config' in current &&
      'response' in current &&
      (current as {response?: unknown}).response === undefined
    )
      sawNoResponse = true;
    current = (current as {cause?: unknown}).cause;
  }
  return {kind: sawNoResponse ? 'network' : 'permanent'};
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function statusOf(error: object): number | undefined {
  const record = error as {status?: unknown; response?: {status?: unknown}};
  const status = record.response?.status ?? (isHttpError(error) ? record.status : undefined);
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599
    ? status
    : undefined;
}

/** Only request errors carry a meaningful `status` of their own (not, say, a process result). */
function isHttpError(error: object): boolean {
  return 'config' in error || 'response' in error || error.constructor?.name === 'GaxiosError';
}

function withRetryAfter(kind: 'http_5xx' | 'http_429', error: object): FailureVerdict {
  const headers = (error as {response?: {headers?: unknown}}).response?.headers;
  const value = headerValue(headers, 'retry-after');
  const ms = value === undefined ? undefined : parseRetryAfter(value);
  return ms === undefined ? {kind} : {kind, retryAfterMs: ms};
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) {
      const value = record[key];
      return typeof value === 'string' ? value : undefined;
    }
  }
  return undefined;
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date; `undefined` when unreadable. */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
