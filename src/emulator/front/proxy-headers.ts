import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `expect`,
 * which the gateway answers itself. A proxy never forwards them.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/**
 * Headers only Google's front may set; a client that sends them is trying to spoof the
 * identity an IAP-protected app reads. Dropped from every request before forwarding.
 */
const FRONT_ONLY = new Set([
  'x-goog-authenticated-user-email',
  'x-goog-authenticated-user-id',
  'x-goog-iap-jwt-assertion',
]);

/** The names a `Connection` header lists (they are hop-by-hop for this message too). */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  const tokens = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : (value ?? '')).split(',')) {
    const name = part.trim().toLowerCase();
    if (name) tokens.add(name);
  }
  return tokens;
}

/**
 * The request headers to send upstream: everything but hop-by-hop headers, headers the
 * `Connection` header names, and front-only identity headers. `host` is kept (the container
 * sees the front's host, as on Cloud Run).
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || FRONT_ONLY.has(name) || listed.has(name)) {
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** The response headers to send back to the client: everything but hop-by-hop ones. */
export function forwardableResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** `X-Forwarded-For` with the client's address appended to what it already carried. */
export function appendForwardedFor(
  existing: string | string[] | undefined,
  client: string | undefined,
): string | undefined {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  if (!client) return prior;
  return prior ? `${prior}, ${client}` : client;
}
