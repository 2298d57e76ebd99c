/**
 * The small HTTP vocabulary of the emulator's handlers: a fully read request, a reply value,
 * and the error shapes of Google's OAuth endpoints and of its JSON APIs.
 */
import type {IncomingHttpHeaders} from 'node:http';

/** A request as handlers see it: body already read (UTF-8). */
export interface EmulatorRequest {
  /** Upper-case method. */
  method: string;
  /** Parsed URL (origin is the emulator's). */
  url: URL;
  /** Node's lower-cased headers. */
  headers: IncomingHttpHeaders;
  /** The body, decoded as UTF-8; empty when none. */
  body: string;
}

/** What a handler answers. */
export interface EmulatorReply {
  /** HTTP status. */
  status: number;
  /** Extra headers (content-type included). */
  headers: Record<string, string>;
  /** The body. */
  body: string;
}

/** A JSON reply. */
export function jsonReply(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): EmulatorReply {
  return {
    status,
    headers: {'content-type': 'application/json; charset=utf-8', ...headers},
    body: JSON.stringify(value),
  };
}

/** A plain-text reply; `contentType` defaults to `text/plain; charset=utf-8`. */
export function textReply(
  status: number,
  body: string,
  headers: Record<string, string> = {},
  contentType = 'text/plain; charset=utf-8',
): EmulatorReply {
  return {status, headers: {'content-type': contentType, ...headers}, body};
}

/** An OAuth 2.0 error (`{error, error_description}`), as oauth2.googleapis.com and STS answer. */
export function oauthError(status: number, error: string, description: string): EmulatorReply {
  return jsonReply(status, {error, error_description: description});
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** The canonical Google API status name of an HTTP status (`UNKNOWN` when none). */
export function googleStatusName(status: number): string {
  return STATUS_NAMES[status] ?? 'UNKNOWN';
}

/** A Google JSON API error (`{error: {code, message, status}}`), as iamcredentials answers. */
export function googleApiError(status: number, message: string): EmulatorReply {
  return jsonReply(status, {error: {code: status, message, status: googleStatusName(status)}});
}

/**
 * The body as a flat record: form-encoded or JSON (by content type, falling back to trying
 * JSON then form). `undefined` when the body is not an object.
 */
export function parseBody(request: EmulatorRequest): Record<string, unknown> | undefined {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  const body = request.body;
  const asJson = (): Record<string, unknown> | undefined => {
    try {
      const value: unknown = JSON.parse(body);
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };
  const asForm = (): Record<string, unknown> => Object.fromEntries(new URLSearchParams(body));
  if (type.includes('application/json')) return asJson();
  if (type.includes('application/x-www-form-urlencoded')) return asForm();
  return body.trimStart().startsWith('{') ? asJson() : asForm();
}

/** The bearer token of the `Authorization` header, or `undefined`. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/** A string field of a parsed body, or `undefined` when absent or not a string. */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}
