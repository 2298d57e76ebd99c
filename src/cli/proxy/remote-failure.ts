import {McpGoogleAuthError} from '../../credentials/errors.js';
import {networkCode} from '../run-action.js';
import {quoteServerText} from '../scrub-text.js';

/** JSON-RPC error code the proxy answers with when it cannot get an answer from the remote. */
export const PROXY_ERROR_CODE = -32000;

/** Why the proxy answered a request itself (the `data.reason` of its JSON-RPC errors). */
export type ProxyFailureReason =
  | 'auth_refused'
  | 'token_unavailable'
  | 'unreachable'
  | 'remote_http_error'
  | 'session_lost'
  | 'stream_ended'
  | 'proxy_closed';

/** What the proxy says when a message could not be delivered. Never carries a token. */
export interface RemoteFailure {
  /** Machine-readable reason (also in the JSON-RPC error's `data.reason`). */
  reason: ProxyFailureReason;
  /** One or two sentences for the local client and stderr. */
  message: string;
  /** The HTTP status the remote answered, when there was one. */
  httpStatus?: number;
  /** What to do about it, one line, for stderr (and `data.hint`). */
  hint?: string;
}

/** Largest piece of remote text quoted in a message, in characters. */
const MAX_QUOTE = 200;

/**
 * What an HTTP status from a Google front (or the server behind it) usually means, and the
 * one-line hint that goes with it. 401, 403 and 404 are explained elsewhere.
 */
const STATUS_MEANINGS: Record<number, {meaning: string; hint: string}> = {
  400: {
    meaning: 'the server refused the request as malformed',
    hint: 'Check that the URL is the MCP endpoint (it usually ends in /mcp) and speaks Streamable HTTP.',
  },
  405: {
    meaning: 'the server does not take this HTTP method at this path',
    hint: 'Check that the URL is the MCP endpoint (it usually ends in /mcp) and speaks Streamable HTTP.',
  },
  408: {
    meaning: 'the server gave up waiting for the request',
    hint: 'Retry; if it persists, check the network between this machine and the service.',
  },
  413: {
    meaning: 'the request is larger than the server accepts',
    hint: 'Send smaller arguments.',
  },
  429: {
    meaning:
      'too many requests: the service is at its instance or concurrency limit, or a quota was reached',
    hint: 'Retry later, or raise the service’s max instances or concurrency.',
  },
  500: {
    meaning: 'the MCP server failed while handling the request',
    hint: 'Check the service’s logs: gcloud run services logs read SERVICE --region REGION.',
  },
  502: {
    meaning:
      'the front got no valid answer from the container: it crashed, is not listening on $PORT, or did not start in time',
    hint: 'Check the service’s logs: gcloud run services logs read SERVICE --region REGION.',
  },
  503: {
    meaning:
      'no instance could take the request: the service is starting, scaling, or at its max instances',
    hint: 'Retry in a few seconds; if it persists, check the service’s logs and its max instances.',
  },
  504: {
    meaning:
      'the container did not answer within the request timeout (5 minutes by default on Cloud Run)',
    hint: 'Raise the service’s request timeout, or make the tool answer sooner.',
  },
};

/** Words for an HTTP status, for the summary line. */
const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** What the proxy knows about a refused answer of the remote. */
export interface RefusalDetails {
  /** The HTTP status. */
  status: number;
  /** What `explainAuthFailure` said about a 401 or 403, when known. */
  authExplanation?: string | undefined;
  /** The body's content type. */
  contentType?: string | undefined;
  /** The start of the body (at most a few KiB), to find an HTML title. */
  bodyExcerpt?: string | undefined;
}

/**
 * Summarizes an HTTP refusal of the remote (a status the proxy will not pass on as it is):
 * the status, what it usually means behind Google's front, and a one-line hint, never the
 * raw page. An HTML page's `<title>` is quoted (scrubbed, one line) when it says more.
 */
export function describeRemoteStatus(details: RefusalDetails, remoteUrl: URL): RemoteFailure {
  const {status} = details;
  const doctor = `Run \`mcp-google-auth doctor ${remoteUrl.href}\` for a step-by-step diagnosis.`;
  if (status === 401 || status === 403) {
    return {
      reason: 'auth_refused',
      httpStatus: status,
      message:
        details.authExplanation ??
        `The remote MCP server at ${remoteUrl.origin} refused the request (HTTP ${status}).`,
      hint: doctor,
    };
  }
  if (status === 404) {
    return {
      reason: 'remote_http_error',
      httpStatus: status,
      message: `The remote server at ${remoteUrl.origin} answered HTTP 404 Not Found for ${remoteUrl.pathname}: nothing answers at that path.`,
      hint: 'Check the URL: the MCP endpoint usually ends in /mcp.',
    };
  }
  const known = STATUS_MEANINGS[status];
  const meaning =
    known?.meaning ??
    (status >= 500 ? 'the server failed to answer' : 'the server refused the request');
  const phrase = REASON_PHRASES[status];
  const title = htmlTitle(details);
  return {
    reason: 'remote_http_error',
    httpStatus: status,
    message: `The remote server at ${remoteUrl.origin} answered HTTP ${status}${phrase ? ` ${phrase}` : ''}: ${meaning}.${title ? ` (Its page says ${title}.)` : ''}`,
    hint: known?.hint ?? doctor,
  };
}

/**
 * Turns an error thrown while reaching the remote (network failure, token failure, a failed
 * replay) into words for the local client and stderr.
 */
export function describeRemoteError(error: unknown, remoteUrl: URL): RemoteFailure {
  const doctor = `Run \`mcp-google-auth doctor ${remoteUrl.href}\` for a step-by-step diagnosis.`;
  if (isRemoteFailure(error)) return error;
  if (error instanceof McpGoogleAuthError) {
    return {
      reason: 'token_unavailable',
      message: `Could not get a Google token for ${remoteUrl.origin}: ${error.message}`,
      hint: doctor,
    };
  }
  const network = networkCode(error);
  if (
    network !== undefined ||
    (error instanceof TypeError && /fetch failed/i.test(error.message))
  ) {
    const cause = (error as {cause?: unknown}).cause;
    const detail =
      network ?? (cause instanceof Error && cause.message ? quote(cause.message) : undefined);
    return {
      reason: 'unreachable',
      message: `Could not reach the remote MCP server at ${remoteUrl.origin}${detail ? ` (${detail})` : ''}.`,
      hint: 'Check the URL and that the service is running.',
    };
  }
  const text = error instanceof Error ? error.message : String(error);
  return {
    reason: 'unreachable',
    message: `Could not deliver the message to ${remoteUrl.origin}: ${quote(text)}`,
  };
}

/** Whether `value` is already a {@link RemoteFailure}. */
export function isRemoteFailure(value: unknown): value is RemoteFailure {
  return (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Error) &&
    typeof (value as RemoteFailure).reason === 'string' &&
    typeof (value as RemoteFailure).message === 'string'
  );
}

/** A JSON-RPC request id. */
export type JsonRpcId = string | number;

/** The proxy's JSON-RPC error answer for request `id` (or `null`). */
export function failureAnswer(
  id: JsonRpcId | null,
  failure: RemoteFailure,
): {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: {code: number; message: string; data: Record<string, unknown>};
} {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: PROXY_ERROR_CODE,
      message: `mcp-google-auth proxy: ${failure.message}${failure.hint ? ` ${failure.hint}` : ''}`,
      data: {
        reason: failure.reason,
        ...(failure.httpStatus !== undefined ? {httpStatus: failure.httpStatus} : {}),
        ...(failure.hint ? {hint: failure.hint} : {}),
      },
    },
  };
}

/**
 * A short, single-line excerpt of text that came from the remote or a lower layer, scrubbed
 * by the command's one scrubber (anything that looks like a credential becomes its
 * fingerprint), so that it can be shown.
 */
export function quote(text: string): string {
  return quoteServerText(text, MAX_QUOTE);
}

/** The `<title>` of an HTML body, quoted, when it says more than the status line. */
function htmlTitle(details: RefusalDetails): string | undefined {
  if (!details.bodyExcerpt || !/html/i.test(details.contentType ?? '')) return undefined;
  const match = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(details.bodyExcerpt);
  const title = match?.[1] ? quote(decodeEntities(match[1])) : '';
  if (title === '' || /^\d{3}(\s+[\w ]+)?$/.test(title)) return undefined;
  return JSON.stringify(title);
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
