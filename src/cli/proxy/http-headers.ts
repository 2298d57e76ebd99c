import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http';

/**
 * Request headers of the local client that never reach the remote: hop-by-hop headers, the
 * length (recomputed), every credential (the proxy sets its own; the local client's are not
 * for the remote, nor is the proxy token), browser context, compression (bytes pass as they
 * are) and the session id (the remote's own is put in its place).
 */
const DROPPED_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'authorization',
  'proxy-authorization',
  'x-serverless-authorization',
  'cookie',
  'origin',
  'referer',
  'accept-encoding',
  'mcp-session-id',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

/**
 * Response headers of the remote that never reach the local client: hop-by-hop headers,
 * cookies and authentication challenges of the remote (a local client that saw a
 * `WWW-Authenticate` would start an OAuth flow against the proxy), and the session id (the
 * local one is put in its place).
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'trailer',
  'upgrade',
  'set-cookie',
  'www-authenticate',
  'proxy-authenticate',
  'mcp-session-id',
]);

/** The headers of a local request as they go to the remote, with the remote session id. */
export function remoteRequestHeaders(
  headers: IncomingHttpHeaders,
  remoteSessionId: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (DROPPED_REQUEST_HEADERS.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (remoteSessionId !== undefined) out['mcp-session-id'] = remoteSessionId;
  return out;
}

/** The headers of a remote response as they go to the local client, with the local session id. */
export function localResponseHeaders(
  headers: IncomingHttpHeaders,
  localSessionId: string | undefined,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (localSessionId !== undefined) out['mcp-session-id'] = localSessionId;
  return out;
}
