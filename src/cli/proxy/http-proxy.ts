import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {headerValue, listen, sendJsonRpcError} from '../../util/node-http.js';
import {HttpForwarder} from './http-forwarder.js';
import {checkHttpProxyOptions} from './http-proxy-options.js';
import type {HttpProxyOptions} from './http-proxy-options.js';
import {HttpSessionTable} from './http-session-table.js';
import type {LocalSession} from './http-session-table.js';
import {NOT_JSON, PARSE_ERROR, parseJson, requestsOf} from './json-rpc.js';
import {RemoteEndpoint} from './remote-endpoint.js';
import {quote} from './remote-failure.js';
import {replyHeader} from './remote-reply.js';
import {RemoteSession} from './remote-session.js';
import {RequestGuard} from './request-guard.js';

export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS,
  MAX_MAX_SESSIONS,
  MIN_PROXY_TOKEN_LENGTH,
} from './http-proxy-options.js';
export type {HttpProxyOptions} from './http-proxy-options.js';

/** Seconds a client is told to wait (`Retry-After`) when every session is taken. */
const RETRY_AFTER_SECONDS = 10;

/** Live counters of an {@link HttpProxy}. */
export interface HttpProxyStats {
  /** Sessions whose `initialize` is on its way to the remote. */
  readonly startingSessions: number;
  /** Requests refused by the Host/Origin/token check (403). */
  readonly refusedRequests: number;
  /** New sessions refused because `maxSessions` were open (503). */
  readonly refusedSessions: number;
  /** Remote sessions opened again after the remote lost one. */
  readonly reestablishedSessions: number;
}

/** A running HTTP proxy (see {@link startHttpProxy}). */
export interface HttpProxy {
  /** The local MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly url: string;
  /** The address it listens on. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** Local sessions currently open (each paired with one remote session). */
  readonly sessions: number;
  /** Live counters. */
  readonly stats: HttpProxyStats;
  /** Ends every session (DELETE to the remote, bounded wait) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** The MCP endpoint path of the local server. */
const MCP_PATH = '/mcp';

/** How often refusals of the same kind are logged at most, in milliseconds. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Serves a local Streamable HTTP MCP endpoint at `http://HOST:PORT/mcp` and forwards it to a
 * remote one, byte for byte: request and response bodies (event streams included) pass
 * unchanged and stream as they come. Two headers change: the credential (set by `fetch`, a
 * fresh Google token per request) and the session id (the local client sees the proxy's own
 * random id, never the remote's). Nothing else is parsed, except where the proxy answers
 * itself:
 * - a POST without a session id is read to see whether it is `initialize` (a new session);
 * - when the remote lost a session (404), the client's own `initialize` and
 *   `notifications/initialized` are replayed and the request is sent once more;
 * - a refusal (401/403, an HTML error page such as a front's 502, an unreachable remote)
 *   is answered with a JSON-RPC error that says what it usually means and what to do;
 * - an event stream that ends without the answer it owed gets a JSON-RPC error in its place.
 *
 * Every request passes the {@link RequestGuard} first (Host allow-list against DNS rebinding
 * on every bind, browser Origin, optional shared token). Sessions are bounded
 * (`maxSessions`) and closed when idle (`idleTimeoutMs`).
 *
 * @example
 * const proxy = await startHttpProxy({remoteUrl, fetch: googleAuthFetch({authCredential, targetUrl: remoteUrl, fetch: nodeHttpFetch()}), port: 3000});
 * // point any MCP client at proxy.url
 */
export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  const config = checkHttpProxyOptions(options);
  const {log, remote, maxBodyBytes, terminateTimeoutMs} = config;
  const endpoint = new RemoteEndpoint(remote, options.fetch);
  const guard = new RequestGuard({
    boundHost: config.host,
    allowedHosts: config.allowedHosts,
    ...(options.requireToken !== undefined ? {requireToken: options.requireToken} : {}),
  });
  const counts = {refusedRequests: 0, refusedSessions: 0, reestablishedSessions: 0};
  const lastLogged = new Map<string, number>();
  /** Logs a line of kind `key` at most once per {@link LOG_INTERVAL_MS}. */
  const warnSometimes = (key: string, message: string): void => {
    const now = Date.now();
    if (now - (lastLogged.get(key) ?? -Infinity) < LOG_INTERVAL_MS) return;
    lastLogged.set(key, now);
    log.warn(message);
  };

  const table = new HttpSessionTable({
    maxSessions: config.maxSessions,
    idleTimeoutMs: config.idleTimeoutMs,
    timers: options.timers,
    onIdle(session) {
      log.info(
        `Closed local session ${session.id.slice(0, 8)} after ${describeDuration(config.idleTimeoutMs)} idle (no request, no open stream); ending its remote session.`,
      );
      void session.remote.end(terminateTimeoutMs);
    },
  });

  const forwarder = new HttpForwarder({
    endpoint,
    logger: log,
    onReestablished: () => {
      counts.reestablishedSessions++;
    },
  });

  /** Counts the request `res` answers as activity of `session` until its response closes. */
  function track(session: LocalSession, res: ServerResponse): void {
    session.idle.enter();
    res.once('close', () => session.idle.leave());
  }

  /** A POST without a session id: `initialize` opens a session; anything else goes as it is (a stateless remote). */
  async function postWithoutSession(
    req: IncomingMessage,
    res: ServerResponse,
    body: Uint8Array,
  ): Promise<void> {
    const parsed = parseJson(body);
    if (parsed === NOT_JSON) {
      sendJsonRpcError(res, 400, PARSE_ERROR, 'Parse error: the body is not JSON');
      return;
    }
    if (!requestsOf(parsed).some((request) => request.method === 'initialize')) {
      await forwarder.forward(req, res, 'POST', body, undefined);
      return;
    }
    if (!table.reserve()) {
      counts.refusedSessions++;
      warnSometimes(
        'max-sessions',
        `Refused a new session: ${config.maxSessions} are open (--max-sessions). Sessions end when their client sends DELETE or after --idle-timeout.`,
      );
      res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      sendJsonRpcError(
        res,
        503,
        -32000,
        `Service Unavailable: this proxy already holds its maximum of ${config.maxSessions} sessions; retry later.`,
      );
      return;
    }
    try {
      // A refused initialize is answered by the forwarder, and nothing is kept.
      const reply = await forwarder.send(req, res, 'POST', body, undefined);
      if (reply === undefined) return;
      const remoteId = replyHeader(reply, 'mcp-session-id');
      let session: LocalSession | undefined;
      if (reply.status >= 200 && reply.status <= 299 && remoteId !== undefined) {
        session = table.add(
          new RemoteSession({
            endpoint,
            initialize: body,
            id: remoteId,
            logger: log,
            reinitializeTimeoutMs: config.reinitializeTimeoutMs,
          }),
        );
        track(session, res);
        log.debug(`local session ${session.id.slice(0, 8)} opened`);
      }
      await forwarder.deliver(reply, res, 'POST', body, session);
    } finally {
      table.unreserve();
    }
  }

  /** The client's DELETE: the local session ends, and its remote session with it. */
  async function endSession(session: LocalSession, res: ServerResponse): Promise<void> {
    table.delete(session);
    log.debug(`local session ${session.id.slice(0, 8)} closed by the client`);
    await session.remote.end(terminateTimeoutMs);
    res.writeHead(200).end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== MCP_PATH) {
      req.resume();
      res
        .writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
        .end(`Not found: the MCP endpoint is ${MCP_PATH}\n`);
      return;
    }
    const refused = guard.check(req.headers);
    if (refused !== undefined) {
      counts.refusedRequests++;
      warnSometimes('guard', `Refused a request to the proxy: ${refused}.`);
      req.resume();
      sendJsonRpcError(res, 403, -32000, `Forbidden: ${refused}`);
      return;
    }
    const method = req.method ?? 'GET';
    const sessionId = headerValue(req, 'mcp-session-id');
    let session: LocalSession | undefined;
    if (sessionId !== undefined) {
      session = table.get(sessionId);
      if (session === undefined) {
        req.resume();
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
    }
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      req.resume();
      res.setHeader('allow', 'GET, POST, DELETE');
      sendJsonRpcError(res, 405, -32000, 'Method not allowed.');
      return;
    }
    if (method === 'DELETE' && session !== undefined) {
      req.resume();
      await endSession(session, res);
      return;
    }
    if (session !== undefined) track(session, res);
    let body: Uint8Array | undefined;
    if (method === 'POST') {
      const read = await readBody(req, res, maxBodyBytes);
      if (read === undefined) return;
      body = read;
      if (session !== undefined) {
        session.remote.noteClientMessage(body);
        session.remote.protocolVersion ??= headerValue(req, 'mcp-protocol-version');
      } else {
        await postWithoutSession(req, res, body);
        return;
      }
    } else {
      req.resume();
    }
    await forwarder.forward(req, res, method, body, session);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.debug(
        `local request failed: ${quote(error instanceof Error ? error.message : String(error))}`,
      );
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.destroy();
    });
  });

  if (!config.loopback) {
    // Said before binding, so that it is shown whether or not the address can be bound.
    log.warn(
      `The proxy listens on ${config.host}, beyond this machine: anyone who can reach ${config.port === 0 ? 'its port' : `port ${config.port}`} calls ${remote.origin} as this proxy's Google identity (the service account).${options.requireToken === undefined ? ' Add --require-token on a machine with other users.' : ''}`,
    );
  }
  await listen(server, config.port, config.host);
  const address = server.address() as AddressInfo;
  const shownHost =
    address.family === 'IPv6' || address.address.includes(':')
      ? `[${address.address}]`
      : address.address;
  const url = `http://${shownHost}:${address.port}${MCP_PATH}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    get sessions() {
      return table.size;
    },
    stats: {
      get startingSessions() {
        return table.starting;
      },
      get refusedRequests() {
        return counts.refusedRequests;
      },
      get refusedSessions() {
        return counts.refusedSessions;
      },
      get reestablishedSessions() {
        return counts.reestablishedSessions;
      },
    },
    close() {
      closing ??= (async () => {
        const all = table.all();
        for (const session of all) table.delete(session);
        await Promise.all(all.map((session) => session.remote.end(terminateTimeoutMs)));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

/**
 * Reads a request body of at most `limit` bytes; answers 413 past it (and resolves to
 * undefined, as for a body that broke off). Bytes, never parsed here.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    sendJsonRpcError(res, 413, PARSE_ERROR, 'Body too large');
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (body: Uint8Array | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done(undefined);
        req.resume();
        sendJsonRpcError(res, 413, PARSE_ERROR, 'Body too large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void =>
      done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const onError = (): void => done(undefined);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

/** `30 minutes`, `90 seconds`, `1500 ms`: an idle timeout as the log line shows it. */
function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} second${ms === 1000 ? '' : 's'}`;
  return `${ms} ms`;
}
