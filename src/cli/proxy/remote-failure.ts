import {StreamableHTTPError} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {McpGoogleAuthError} from '../../credentials/errors.js';
import {networkCode} from '../run-action.js';

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
  /** What to do about it, for stderr (and `data.hint`). */
  hint?: string;
}

/** Largest piece of a remote error body quoted in a message, in characters. */
const MAX_QUOTE = 200;

/**
 * Turns the error `transport.send` threw into words for the local client and stderr.
 * `authExplanation` is what `explainAuthFailure` said about a 401/403 answer, when known.
 */
export function describeRemoteFailure(
  error: unknown,
  remoteUrl: URL,
  authExplanation?: string,
): RemoteFailure {
  const doctor = `Run \`mcp-google-auth doctor ${remoteUrl.href}\` for a step-by-step diagnosis.`;
  if (error instanceof StreamableHTTPError) {
    const status = error.code;
    if (status === 401 || status === 403) {
      return {
        reason: 'auth_refused',
        httpStatus: status,
        message:
          authExplanation ??
          `The remote MCP server at ${remoteUrl.origin} refused the request (HTTP ${status}).`,
        hint: doctor,
      };
    }
    if (status === 404) {
      return {
        reason: 'remote_http_error',
        httpStatus: status,
        message: `The remote server at ${remoteUrl.origin} answered HTTP 404 for ${remoteUrl.pathname}.`,
        hint: 'Check the URL: the MCP endpoint usually ends in /mcp.',
      };
    }
    if (status !== undefined && status > 0) {
      const said = quote(
        error.message.replace(/^Streamable HTTP error: Error POSTing to endpoint: ?/, ''),
      );
      return {
        reason: 'remote_http_error',
        httpStatus: status,
        message: `The remote MCP server at ${remoteUrl.origin} answered HTTP ${status}${said ? `: ${said}` : ''}.`,
      };
    }
    return {
      reason: 'remote_http_error',
      message: `The remote server at ${remoteUrl.origin} did not answer as an MCP server (${quote(error.message)}).`,
      hint: doctor,
    };
  }
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

/**
 * A short, single-line excerpt of text that came from the remote or a lower layer, with
 * anything that looks like a bearer token or JWT replaced, so that it can be shown.
 */
export function quote(text: string): string {
  const oneLine = text
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[token]')
    .replace(/\bya29\.[\w.-]+/g, '[token]')
    .replace(/\s+/g, ' ')
    .trim();
  return oneLine.length > MAX_QUOTE ? `${oneLine.slice(0, MAX_QUOTE)}…` : oneLine;
}
