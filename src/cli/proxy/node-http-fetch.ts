import {Agent as HttpAgent, request as httpRequest} from 'node:http';
import type {IncomingMessage, OutgoingHttpHeaders} from 'node:http';
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https';
import type {FetchLike} from '../../tokens/google-routing.js';
import {failedOnStaleConnection} from '../../util/node-http.js';

/** A {@link FetchLike} over node:http(s) with its own keep-alive connection pool. */
export interface NodeHttpFetch extends FetchLike {
  /** Closes the pooled connections. Requests made later open new ones. */
  close(): void;
}

/** Where a Response keeps its node:http message while the body is unread (cheaper than a WeakMap). */
const NODE_MESSAGE = Symbol('node message');

type WithMessage = Response & {[NODE_MESSAGE]?: IncomingMessage | undefined};

/**
 * The node:http message behind a Response that {@link nodeHttpFetch} returned, when its body
 * has not been read through the Response: the caller then reads the bytes (and the raw
 * headers) from it directly, without a WHATWG stream in between, and must leave the
 * Response's own body alone. `undefined` for any other Response, or once taken.
 */
export function takeNodeResponse(response: Response): IncomingMessage | undefined {
  const holder = response as WithMessage;
  const incoming = holder[NODE_MESSAGE];
  if (incoming !== undefined) holder[NODE_MESSAGE] = undefined;
  return incoming;
}

/**
 * The proxy's `fetch`: node:http(s) requests on keep-alive connections, about a quarter of
 * the CPU of the global fetch per request on loopback. It returns real `Response` objects
 * (status, headers), so `googleAuthFetch` can wrap it (token, 401 retry, explanations), but
 * not a general-purpose fetch: the body and the headers are read from the node message
 * ({@link takeNodeResponse}), with no WHATWG stream in between (building one costs more than
 * the rest of the Response). `response.body` is `null`, except on a 401, whose body is a
 * stream (`googleAuthFetch` cancels it before it retries); `response.headers` is filled only
 * for a redirect, a 401 and a 403 (what the credential layer reads).
 *
 * What it does not do: redirects (always `manual`), compression (no `accept-encoding` is
 * added; bytes pass as they come), request streams (bodies are strings or bytes). A request
 * that fails on a kept-alive connection the server had just closed, before any answer, is
 * sent once more on a new connection (the keep-alive race; see `failedOnStaleConnection`).
 *
 * @example
 * const fetch = nodeHttpFetch();
 * const authFetch = googleAuthFetch({authCredential, targetUrl, fetch});
 */
export function nodeHttpFetch(): NodeHttpFetch {
  const http = new HttpAgent({keepAlive: true, scheduling: 'lifo'});
  const https = new HttpsAgent({keepAlive: true, scheduling: 'lifo'});
  let lastHref = '';
  let lastTarget: Target | undefined;

  const fetchImpl = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    let href: string;
    let method = init?.method;
    let headers = init?.headers;
    let body: RequestInit['body'] = init?.body;
    let signal = init?.signal ?? undefined;
    if (typeof input === 'string') href = input;
    else if (input instanceof URL) href = input.href;
    else {
      href = input.url;
      method ??= input.method;
      headers ??= input.headers;
      signal ??= input.signal;
      if (body === undefined && input.body !== null)
        body = new Uint8Array(await input.arrayBuffer());
    }
    let target: Target;
    if (href === lastHref && lastTarget !== undefined) target = lastTarget;
    else {
      target = targetOf(new URL(href));
      lastHref = href;
      lastTarget = target;
    }
    const verb = (method ?? 'GET').toUpperCase();
    const out = outgoingHeaders(headers);
    const bytes = requestBytes(body);
    if (bytes !== undefined) out['content-length'] = String(bytes.byteLength);
    signal?.throwIfAborted();
    return send(target, verb, out, bytes, signal, target.secure ? https : http, false);
  };
  return Object.assign(fetchImpl, {
    close() {
      http.destroy();
      https.destroy();
    },
  });
}

/** Where a URL's requests go, worked out once per URL (URL getters are not free). */
interface Target {
  readonly secure: boolean;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string | number;
  readonly path: string;
}

function targetOf(url: URL): Target {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`fetch failed: ${url.protocol} URLs are not supported`);
  }
  const secure = url.protocol === 'https:';
  return {
    secure,
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
  };
}

function send(
  url: Target,
  method: string,
  headers: OutgoingHttpHeaders,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
  agent: HttpAgent | HttpsAgent,
  fresh: boolean,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const req = (url.secure ? httpsRequest : httpRequest)({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.path,
      method,
      headers,
      // A retry after the keep-alive race takes a connection of its own.
      agent: fresh ? false : agent,
    });
    let answered = false;
    let incoming: IncomingMessage | undefined;
    const onAbort = (): void => {
      const reason = signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError');
      if (incoming) incoming.destroy(reason as Error);
      else req.destroy(reason as Error);
    };
    signal?.addEventListener('abort', onAbort, {once: true});
    const release = (): void => signal?.removeEventListener('abort', onAbort);
    req.on('response', (message: IncomingMessage) => {
      answered = true;
      incoming = message;
      if (signal) message.once('close', release);
      try {
        resolve(toResponse(message, method));
      } catch (error) {
        message.destroy();
        release();
        reject(new TypeError('fetch failed', {cause: error}));
      }
    });
    req.on('error', (error: Error) => {
      if (answered) return;
      release();
      if (signal?.aborted) {
        reject(signal.reason ?? error);
        return;
      }
      if (!fresh && failedOnStaleConnection(req, error, answered)) {
        resolve(send(url, method, headers, body, signal, agent, true));
        return;
      }
      reject(new TypeError('fetch failed', {cause: error}));
    });
    req.end(body);
  });
}

/**
 * A Response around `message`: status and headers; the body stays in `message` (see
 * {@link takeNodeResponse}), except on a 401, where it is a lazy stream that
 * `googleAuthFetch` can cancel.
 */
function toResponse(message: IncomingMessage, method: string): Response {
  const status = message.statusCode ?? 0;
  // The Headers view only where the credential layer reads it (a redirect's Location, a
  // 401/403's WWW-Authenticate); the proxy reads headers from the node message.
  const headers = new Headers();
  if ((status >= 300 && status < 400) || status === 401 || status === 403) {
    const raw = message.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      try {
        headers.append(raw[i] as string, raw[i + 1] as string);
      } catch {
        // A value fetch would refuse is left out of the Headers view (the node message keeps it).
      }
    }
  }
  const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  const streamed = status === 401 && !noBody;
  // Set once the Response exists; reading its body through it means the node message is taken.
  const holder: {response?: WithMessage} = {};
  let iterator: AsyncIterator<Buffer> | undefined;
  const body = !streamed
    ? null
    : new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (holder.response !== undefined) holder.response[NODE_MESSAGE] = undefined;
            iterator ??= message[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
            const next = await iterator.next();
            if (next.done) controller.close();
            else
              controller.enqueue(
                new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength),
              );
          },
          cancel() {
            if (holder.response !== undefined) holder.response[NODE_MESSAGE] = undefined;
            message.destroy();
          },
        },
        // Nothing is pulled until someone reads: the proxy may take the node message instead.
        {highWaterMark: 0},
      );
  if (noBody) message.resume();
  const response: WithMessage = new Response(body, {
    status,
    statusText: message.statusMessage ?? '',
    headers,
  });
  holder.response = response;
  if (!noBody) response[NODE_MESSAGE] = message;
  return response;
}

function outgoingHeaders(init: RequestInit['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (init === undefined || init === null) return out;
  if (init instanceof Headers) {
    init.forEach((value, name) => {
      out[name] = value;
    });
  } else if (Array.isArray(init)) {
    for (const [name, value] of init as [string, string][]) out[name.toLowerCase()] = value;
  } else {
    for (const name of Object.keys(init)) {
      const value = (init as Record<string, string>)[name];
      if (value !== undefined) out[name.toLowerCase()] = value;
    }
  }
  return out;
}

function requestBytes(body: RequestInit['body']): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('fetch failed: nodeHttpFetch sends string or byte bodies only');
}
