import {gaxios} from 'google-auth-library';
import {CredentialExchangeError, type CredentialExchangeCode} from '../../credentials/errors.js';
import type {TokenRequest} from '../token-source.js';
import {MalformedAnswerError} from '../transient-failure.js';
import {redactCauseChain, safeErrorBody, scrubSecrets} from './redact.js';

/** What a source was doing when it failed, in words for the error message. */
export interface FailureContext {
  /** What was asked for: see {@link describeRequest}. */
  readonly request: TokenRequest;
  /** Who was asked to mint it, e.g. `service account sa@p.iam.gserviceaccount.com (explicit key)`. */
  readonly subject: string;
  /** What to do, by the HTTP status Google answered (`default` for anything else). */
  readonly fixes?: Partial<
    Record<'unauthorized' | 'forbidden' | 'badRequest' | 'notFound' | 'default', string>
  >;
}

/** `an ID token for audience "https://…"` or `an access token for scopes [...]`. */
export function describeRequest(request: TokenRequest): string {
  return request.kind === 'id'
    ? `an ID token for audience ${JSON.stringify(request.audience)}`
    : `an access token for scopes ${JSON.stringify(request.scopes)}`;
}

/** Which Google endpoint a URL is, in words. */
export function describeEndpoint(url: string | URL | undefined): string {
  if (url === undefined) return "Google's endpoint";
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return "Google's endpoint";
  }
  const path = parsed.pathname;
  if (path.startsWith('/computeMetadata/')) return `the metadata server (${parsed.host})`;
  if (parsed.hostname === 'sts.googleapis.com' || path === '/v1/token')
    return 'the STS token exchange endpoint';
  if (/:generateIdToken$/.test(path)) return 'IAM Credentials generateIdToken';
  if (/:generateAccessToken$/.test(path)) return 'IAM Credentials generateAccessToken';
  if (path === '/token' || path === '/oauth2/v4/token') return "Google's OAuth token endpoint";
  return `${parsed.host}${path}`;
}

/** HTTP status of a failed request, when there was an answer. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof gaxios.GaxiosError) return error.response?.status ?? numeric(error.status);
  if (typeof error === 'object' && error !== null) {
    const record = error as {status?: unknown; response?: {status?: unknown}};
    return numeric(record.response?.status) ?? numeric(record.status);
  }
  return undefined;
}

function numeric(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 ? value : undefined;
}

/**
 * What Google answered, in words, without echoing a body that might hold a token:
 * `Google's OAuth token endpoint answered HTTP 400 (invalid_grant: Invalid JWT Signature.)`.
 */
export function describeAnswer(error: unknown): string {
  if (error instanceof CredentialExchangeError) return error.message;
  if (error instanceof gaxios.GaxiosError || isHttpErrorLike(error)) {
    const e = error as gaxios.GaxiosError;
    const where = describeEndpoint(e.config?.url);
    const status = httpStatusOf(e);
    if (e.response && status !== undefined) {
      const detail = detailOf(e.response.data);
      return `${where} answered HTTP ${status}${detail ? ` (${detail})` : ''}`;
    }
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    return `the request to ${where} failed (${code}${scrubSecrets(e.message, 200)})`;
  }
  if (error instanceof Error) return scrubSecrets(error.message, 300);
  return scrubSecrets(String(error), 200);
}

function isHttpErrorLike(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'config' in error &&
    ('response' in error || 'code' in error)
  );
}

function detailOf(data: unknown): string {
  const safe = safeErrorBody(data);
  if (typeof safe === 'string') {
    return safe.trim() === '' ? '' : `body not JSON: ${JSON.stringify(safe.slice(0, 120))}`;
  }
  if (typeof safe !== 'object' || safe === null) return '';
  const body = safe as {error?: unknown; error_description?: unknown};
  if (typeof body.error === 'string') {
    return typeof body.error_description === 'string'
      ? `${body.error}: ${body.error_description}`
      : body.error;
  }
  if (typeof body.error === 'object' && body.error !== null) {
    const inner = body.error as {status?: string; message?: string};
    return [inner.status, inner.message].filter(Boolean).join(': ');
  }
  return '';
}

function codeFor(status: number | undefined): CredentialExchangeCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  return 'exchange_failed';
}

function hasMalformedAnswer(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof MalformedAnswerError) return true;
    current = (current as {cause?: unknown}).cause;
  }
  return false;
}

function isNetworkFailure(error: unknown): boolean {
  return (
    (error instanceof gaxios.GaxiosError || isHttpErrorLike(error)) &&
    httpStatusOf(error) === undefined
  );
}

function isKeyFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as {code?: unknown}).code;
  return (
    (typeof code === 'string' && /^ERR_(OSSL|CRYPTO)/.test(code)) ||
    /DECODER routines|PEM routines|asn1|bad base64 decode|No key or keyFile set/i.test(
      error.message,
    )
  );
}

/** google-auth-library's words for a 200 answer that lacked the token. */
function isEmptyAnswer(error: unknown): boolean {
  return (
    error instanceof Error &&
    /Failed to fetch ID token|Could not refresh access token|No access token is returned/i.test(
      error.message,
    )
  );
}

function fixFor(context: FailureContext, error: unknown, status: number | undefined): string {
  const fixes = context.fixes ?? {};
  if (status === 401 && fixes.unauthorized) return fixes.unauthorized;
  if (status === 403 && fixes.forbidden) return fixes.forbidden;
  if (status === 400 && fixes.badRequest) return fixes.badRequest;
  if (status === 404 && fixes.notFound) return fixes.notFound;
  if (status !== undefined && (status >= 500 || status === 429)) {
    return "Google's endpoint failed or is overloaded; this is usually temporary, so retry later.";
  }
  if (status === undefined && hasMalformedAnswer(error)) {
    return 'Google does not answer like that; if GOOGLE_AUTH_EMULATOR_HOST or GCE_METADATA_HOST points at an emulator or proxy, check it.';
  }
  if (status === undefined && isNetworkFailure(error)) {
    return 'Check network access to Google (or, with GOOGLE_AUTH_EMULATOR_HOST / GCE_METADATA_HOST set, that the emulator is running).';
  }
  if (isKeyFailure(error)) {
    return 'The private key could not sign the assertion: serviceAccountCredential.privateKey must be the PEM private key of the key file (its private_key field), with its newlines.';
  }
  if (isEmptyAnswer(error)) {
    return 'The answer had no token in it; Google does not answer like that. If GOOGLE_AUTH_EMULATOR_HOST or GCE_METADATA_HOST points at an emulator or proxy, check it.';
  }
  return fixes.default ?? '';
}

/**
 * The {@link CredentialExchangeError} for a failed token request: what was attempted, what
 * Google answered and the fix, with the lower error as `cause` (stripped of request bodies,
 * credentials headers and token-like text). A CredentialExchangeError passes through.
 */
export function exchangeFailure(context: FailureContext, error: unknown): CredentialExchangeError {
  if (error instanceof CredentialExchangeError) return error;
  redactCauseChain(error);
  const status = httpStatusOf(error);
  const fix = fixFor(context, error, status);
  const message =
    `Could not get ${describeRequest(context.request)} from ${context.subject}: ` +
    `${describeAnswer(error)}.${fix ? ` ${fix}` : ''}`;
  return new CredentialExchangeError(message, {cause: error, code: codeFor(status)});
}

/**
 * A CredentialExchangeError for an answer that arrived but is not what Google sends (not
 * a JWT, no `access_token`, no expiry).
 */
export function malformedAnswer(context: FailureContext, what: string): CredentialExchangeError {
  const message =
    `Could not get ${describeRequest(context.request)} from ${context.subject}: ${what}. ` +
    'Google does not answer like that; if GOOGLE_AUTH_EMULATOR_HOST or GCE_METADATA_HOST points at an emulator or proxy, check it.';
  return new CredentialExchangeError(message, {
    cause: new MalformedAnswerError(what),
    code: 'exchange_failed',
  });
}
