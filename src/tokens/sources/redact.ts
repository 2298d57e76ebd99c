import {tokenFingerprint} from '../fingerprint.js';

/**
 * Keeps secrets out of error text. Everything that looks like a token, a JWT, a PEM block
 * or a long opaque credential is replaced by its fingerprint; request bodies and
 * `Authorization` headers of failed requests are dropped before an error leaves the
 * package (the error may be logged whole, `cause` included).
 */

const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g,
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g,
  /\bya29\.[A-Za-z0-9._-]+/g,
  /\b1\/\/[A-Za-z0-9._-]+/g,
  // Opaque credentials (refresh tokens, client secrets, base64 key material). URLs, paths
  // and emails do not match: they carry dots, colons or `@` well before 40 characters.
  /[A-Za-z0-9_-]{40,}/g,
  /[A-Za-z0-9+/]{60,}={0,2}/g,
];

const MAX_TEXT = 300;

/** Replaces anything secret-looking in `text` with `[redacted sha256:…]` and caps its length. */
export function scrubSecrets(text: string, maxLength = MAX_TEXT): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match) => `[redacted ${tokenFingerprint(match)}]`);
  }
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}

const REDACTED = '[redacted]';

interface HeadersLike {
  forEach(callback: (value: string, key: string) => void): void;
  set(key: string, value: string): void;
}

function isHeaders(value: unknown): value is HeadersLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as HeadersLike).forEach === 'function' &&
    typeof (value as HeadersLike).set === 'function'
  );
}

function redactHeaders(headers: unknown): void {
  if (isHeaders(headers)) {
    const names: string[] = [];
    headers.forEach((_value, key) => {
      if (
        /^(authorization|proxy-authorization|cookie|x-goog-iam-authorization-token)$/i.test(key) ||
        /secret|token/i.test(key)
      ) {
        names.push(key);
      }
    });
    for (const name of names) headers.set(name, REDACTED);
  } else if (typeof headers === 'object' && headers !== null) {
    const record = headers as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (/^(authorization|proxy-authorization|cookie)$/i.test(key) || /secret|token/i.test(key)) {
        record[key] = REDACTED;
      }
    }
  }
}

function redactRequest(config: unknown): void {
  if (typeof config !== 'object' || config === null) return;
  const record = config as Record<string, unknown>;
  redactHeaders(record.headers);
  // A request body to Google's auth endpoints carries an assertion, a refresh token, a
  // subject token or a client secret: drop it whole.
  if ('data' in record && record.data !== undefined) record.data = REDACTED;
  if ('body' in record && record.body !== undefined) record.body = REDACTED;
}

/**
 * The parts of an error answer worth showing: OAuth's `error`/`error_description` and
 * Google APIs' `error.{code,status,message}`, each scrubbed; anything else becomes a
 * scrubbed, shortened string.
 */
export function safeErrorBody(data: unknown): unknown {
  if (data === undefined || data === null || data === '') return data;
  if (typeof data === 'string') return scrubSecrets(data, 200);
  if (typeof data !== 'object') return data;
  const body = data as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (typeof body.error === 'string') out.error = scrubSecrets(body.error, 100);
  if (typeof body.error_description === 'string') {
    out.error_description = scrubSecrets(body.error_description, 200);
  }
  if (typeof body.error === 'object' && body.error !== null) {
    const inner = body.error as Record<string, unknown>;
    out.error = {
      ...(typeof inner.code === 'number' ? {code: inner.code} : {}),
      ...(typeof inner.status === 'string' ? {status: scrubSecrets(inner.status, 60)} : {}),
      ...(typeof inner.message === 'string' ? {message: scrubSecrets(inner.message, 200)} : {}),
    };
  }
  return out;
}

function redactResponse(response: unknown): void {
  if (typeof response !== 'object' || response === null) return;
  const record = response as Record<string, unknown>;
  redactRequest(record.config);
  redactHeaders(record.headers);
  try {
    if ('data' in record) record.data = safeErrorBody(record.data);
  } catch {
    // A fetch Response whose `data` cannot be replaced keeps nothing readable anyway.
  }
}

/**
 * Strips secrets from a gaxios-style error in place: request body and credentials headers
 * go, the answer keeps only its error fields, the message is scrubbed. Given to gaxios as
 * its `errorRedactor`, and applied to every `cause` this package attaches.
 */
export function redactHttpError<T>(error: T): T {
  if (typeof error !== 'object' || error === null) return error;
  const record = error as Record<string, unknown>;
  if ('config' in record) redactRequest(record.config);
  if ('response' in record) redactResponse(record.response);
  try {
    // Errors and the plain `{message, code}` objects gaxios keeps as `cause` alike.
    if (typeof record.message === 'string') record.message = scrubSecrets(record.message, 500);
    if (typeof record.stack === 'string') record.stack = scrubSecrets(record.stack, 4000);
  } catch {
    // Frozen errors keep their text; the messages we write never include it.
  }
  return error;
}

/** Applies {@link redactHttpError} to an error and to its `cause` chain (a few levels deep). */
export function redactCauseChain<T>(error: T): T {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    redactHttpError(current);
    const record = current as Record<string, unknown>;
    if (record.error instanceof Error && record.error !== record.cause)
      redactHttpError(record.error);
    current = record.cause;
  }
  return error;
}
