import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {FetchLike} from '../../tokens/google-routing.js';
import {MAX_TIMER_MS} from '../../util/idle-timer.js';
import type {ProxyTimers} from '../../util/idle-timer.js';
import {headerValue, listen, sendJsonRpcError} from '../../util/node-http.js';
import {AnswerWatch} from './answer-watch.js';
import {checkMs} from './check-options.js';
import {localResponseHeaders, remoteRequestHeaders} from './http-headers.js';
import {HttpSessionTable} from './http-session-table.js';
import type {LocalSession} from './http-session-table.js';
import {NOT_JSON, PARSE_ERROR, parseJson, requestsIn, requestsOf} from './json-rpc.js';
import {DEFAULT_PROXY_HOST, isLoopbackHost} from './loopback.js';
import type {ProxyLogger} from './proxy-logger.js';
import {silentLogger} from './proxy-logger.js';
import {RemoteEndpoint} from './remote-endpoint.js';
import {describeRemoteError, failureAnswer, quote} from './remote-failure.js';
import type {RemoteFailure} from './remote-failure.js';
import {discardReply, isEventStream, readReplyText, replyHeader} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';
import {RemoteSession, refusal} from './remote-session.js';
import {pumpReply} from './reply-pump.js';
import {RequestGuard, normalizeHost} from './request-guard.js';

/** Options of {@link startHttpProxy}. Validated once, when the proxy starts. */
export interface HttpProxyOptions {
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /**
   * The fetch that reaches the remote, normally `googleAuthFetch` over `nodeHttpFetch` (a
   * fresh token per request, bodies taken as bytes). Any fetch works; others are adapted.
   */
  fetch: FetchLike;
  /** TCP port to listen on, 0 to 65535. Default is 0 (any free port; read it from `url`). */
  port?: number;
  /**
   * Address to listen on. Default is `127.0.0.1`. Anything that is not a loopback address is
   * refused unless `allowNonLoopback` is true: whoever can reach the proxy acts with its
   * Google identity.
   */
  host?: string;
  /** Allow a `host` beyond loopback (the command's explicit `--host`); a warning is logged. Default is false. */
  allowNonLoopback?: boolean;
  /**
   * More names a request's `Host` (and a browser's `Origin`) may carry, besides loopback
   * names and the bound address (`--allowed-host`, e.g. the machine's name on the LAN).
   * Host names or addresses, without port. Default is none.
   */
  allowedHosts?: readonly string[];
  /**
   * A shared secret every request must carry as `Authorization: Bearer <token>`
   * (`--require-token`), for machines with several users. At least 16 characters. Default
   * is none.
   */
  requireToken?: string;
  /**
   * Most sessions open at once (those still starting included); a new one past it gets 503
   * with `Retry-After`. From 1 to 100000. Default is 100.
   */
  maxSessions?: number;
  /** Diagnostics (stderr in the command). Default drops them. */
  logger?: ProxyLogger;
  /** Largest request body, in bytes (413 past it). Default is 4194304 (4 MiB). */
  maxBodyBytes?: number;
  /**
   * Closes a local session (and ends its remote session with a DELETE, as the client's own
   * DELETE would) once it has been idle this long, in milliseconds: no request of the local
   * client in flight and no open GET stream. A client that comes back with the old session id
   * gets 404 and re-initializes. 0 never closes an idle session. At most 2147483647 (about 24.8
   * days). Default is 1800000 (30 minutes).
   */
  idleTimeoutMs?: number;
  /** How long a replayed `initialize` may take when the remote lost a session, in milliseconds. Default is 30000 (30 seconds). */
  reinitializeTimeoutMs?: number;
  /** How long ending a remote session (DELETE) may take, in milliseconds. Default is 3000 (3 seconds). */
  terminateTimeoutMs?: number;
  /** Timers for {@link idleTimeoutMs}, for tests that drive time by hand. Default is the global ones. */
  timers?: ProxyTimers;
}

/** Default {@link HttpProxyOptions.idleTimeoutMs}: 30 minutes, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** Default {@link HttpProxyOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 100;

/** Largest {@link HttpProxyOptions.maxSessions}. */
export const MAX_MAX_SESSIONS = 100_000;

/** Shortest {@link HttpProxyOptions.requireToken}, in characters. */
export const MIN_PROXY_TOKEN_LENGTH = 16;

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
  const config = validate(options);
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

  /** Counts the request `res` answers as activity of `session` until its response closes. */
  function track(session: LocalSession, res: ServerResponse): void {
    session.idle.enter();
    res.once('close', () => session.idle.leave());
  }

  /** Answers the local client with the proxy's JSON-RPC error for `failure`, and says so on stderr. */
  function answerFailure(
    res: ServerResponse,
    body: Uint8Array | undefined,
    failure: RemoteFailure,
    status: number,
    what?: string,
  ): void {
    const requests = body === undefined ? [] : requestsIn(body);
    const subject =
      what ?? (requests.length > 0 ? requests.map((r) => r.method).join(', ') : 'a message');
    log.error(`${subject}: ${failure.message}`);
    if (failure.hint) log.info(failure.hint);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (requests.length === 0) {
      res
        .writeHead(status, {'content-type': 'application/json'})
        .end(JSON.stringify(failureAnswer(null, failure)));
      return;
    }
    // Requests get their answer as JSON-RPC: the client shows the message for the call.
    const answers = requests.map((request) => failureAnswer(request.id, failure));
    res
      .writeHead(200, {'content-type': 'application/json'})
      .end(JSON.stringify(answers.length === 1 ? answers[0] : answers));
  }

  /**
   * Sends one local request to the remote and its answer back. With a session, a 404 for its
   * remote id means the remote lost it: the session is opened again and the request sent once
   * more.
   */
  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    body: Uint8Array | undefined,
    session: LocalSession | undefined,
    signal: AbortSignal,
    retried = false,
  ): Promise<void> {
    const remoteId = session?.remote.id;
    let reply: RemoteReply;
    try {
      reply = await endpoint.send(
        method,
        remoteRequestHeaders(req.headers, remoteId),
        body,
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      answerFailure(res, body, describeRemoteError(error, remote), 502, what(method, body));
      return;
    }
    if (signal.aborted) {
      discardReply(reply);
      return;
    }
    const status = reply.status;
    if (status < 400) {
      await deliver(reply, res, method, body, session);
      return;
    }
    let text: string | undefined;
    if (session !== undefined && remoteId !== undefined && !retried) {
      let lost = status === 404 && (method !== 'GET' || session.getWorked);
      if (status === 400) {
        // Many servers answer an unknown session with 400 and a message about the session id.
        text = await readReplyText(reply, 64 * 1024);
        lost = /session/i.test(text);
      }
      if (lost) {
        discardReply(reply);
        if (session.closed) {
          sendJsonRpcError(res, 404, -32001, 'Session not found');
          return;
        }
        const before = session.remote.opened;
        const failure = await session.remote.reestablish(remoteId);
        if (session.remote.opened > before) counts.reestablishedSessions++;
        if (failure !== undefined) {
          answerFailure(res, body, failure, 502, what(method, body));
          return;
        }
        if (signal.aborted) return;
        if (session.closed) {
          sendJsonRpcError(res, 404, -32001, 'Session not found');
          return;
        }
        await forward(req, res, method, body, session, signal, true);
        return;
      }
    }
    const contentType = replyHeader(reply, 'content-type') ?? '';
    if (status !== 401 && status !== 403 && /json/i.test(contentType)) {
      // A JSON answer (a JSON-RPC error of the MCP server) is for the client as it is.
      if (text === undefined) {
        await deliver(reply, res, method, body, session);
      } else {
        res.writeHead(status, localResponseHeaders(reply.headers, session?.id)).end(text);
      }
      return;
    }
    const failure = await refusal(reply, remote, text);
    // Never a 401 or 403 to the local client: it would start an OAuth flow against the proxy.
    answerFailure(
      res,
      body,
      failure,
      status === 401 || status === 403 ? 502 : status,
      what(method, body),
    );
  }

  /** Sends a remote answer to the local client as it comes. */
  async function deliver(
    reply: RemoteReply,
    res: ServerResponse,
    method: string,
    body: Uint8Array | undefined,
    session: LocalSession | undefined,
  ): Promise<void> {
    const headers = localResponseHeaders(reply.headers, session?.id);
    const stream = isEventStream(reply);
    if (stream) delete headers['content-length'];
    res.writeHead(reply.status, headers);
    const source = reply.body;
    if (source === undefined) {
      res.end();
      return;
    }
    if (method === 'GET' && reply.status === 200 && session !== undefined) session.getWorked = true;
    const encoded = (replyHeader(reply, 'content-encoding') ?? 'identity') !== 'identity';
    const watch =
      stream && method === 'POST' && body !== undefined && !encoded
        ? new AnswerWatch(body)
        : undefined;
    await pumpReply(source, res, {
      onChunk: watch ? (chunk) => watch.feed(chunk) : undefined,
      complete: watch ? () => watch.complete : undefined,
      finish(how) {
        if (watch !== undefined && !watch.resumable) {
          const missing = watch.unanswered();
          if (missing.length > 0) {
            const failure: RemoteFailure = {
              reason: 'stream_ended',
              message: `The remote MCP server at ${remote.origin} closed the response stream without answering ${missing.map((r) => r.method).join(', ')} (it may have restarted); retry it if that is safe.`,
            };
            log.error(failure.message);
            for (const request of missing) {
              res.write(
                `event: message\ndata: ${JSON.stringify(failureAnswer(request.id, failure))}\n\n`,
              );
            }
          }
        }
        // An event stream that broke off ends cleanly (its requests were answered above); a
        // JSON body that broke off must not look complete.
        if (how === 'ended' || stream) res.end();
        else res.destroy();
      },
    });
  }

  /** A POST without a session id: `initialize` opens a session; anything else goes as it is (a stateless remote). */
  async function postWithoutSession(
    req: IncomingMessage,
    res: ServerResponse,
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    const parsed = parseJson(body);
    if (parsed === NOT_JSON) {
      sendJsonRpcError(res, 400, PARSE_ERROR, 'Parse error: the body is not JSON');
      return;
    }
    if (!requestsOf(parsed).some((request) => request.method === 'initialize')) {
      await forward(req, res, 'POST', body, undefined, signal);
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
      let reply: RemoteReply;
      try {
        reply = await endpoint.send(
          'POST',
          remoteRequestHeaders(req.headers, undefined),
          body,
          signal,
        );
      } catch (error) {
        if (signal.aborted) return;
        answerFailure(res, body, describeRemoteError(error, remote), 502, 'initialize');
        return;
      }
      if (reply.status < 200 || reply.status > 299) {
        // A refused initialize: answered, and nothing is kept.
        const contentType = replyHeader(reply, 'content-type') ?? '';
        if (reply.status !== 401 && reply.status !== 403 && /json/i.test(contentType)) {
          await deliver(reply, res, 'POST', body, undefined);
        } else {
          const failure = await refusal(reply, remote);
          answerFailure(
            res,
            body,
            failure,
            reply.status === 401 || reply.status === 403 ? 502 : reply.status,
            'initialize',
          );
        }
        return;
      }
      const remoteId = replyHeader(reply, 'mcp-session-id');
      let session: LocalSession | undefined;
      if (remoteId !== undefined && !signal.aborted) {
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
      await deliver(reply, res, 'POST', body, session);
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
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let body: Uint8Array | undefined;
    if (method === 'POST') {
      const read = await readBody(req, res, maxBodyBytes);
      if (read === undefined) return;
      body = read;
      if (session !== undefined) {
        session.remote.noteClientMessage(body);
        session.remote.protocolVersion ??= headerValue(req, 'mcp-protocol-version');
      } else {
        await postWithoutSession(req, res, body, controller.signal);
        return;
      }
    } else {
      req.resume();
    }
    await forward(req, res, method, body, session, controller.signal);
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

/** What a request was, for log lines: its methods, or the HTTP method. */
function what(method: string, body: Uint8Array | undefined): string {
  if (body === undefined) return method === 'GET' ? 'the event stream (GET)' : method;
  const requests = requestsIn(body);
  return requests.length > 0 ? requests.map((r) => r.method).join(', ') : 'a message';
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

interface ProxyConfig {
  log: ProxyLogger;
  remote: URL;
  port: number;
  host: string;
  loopback: boolean;
  allowedHosts: string[];
  maxSessions: number;
  maxBodyBytes: number;
  idleTimeoutMs: number;
  reinitializeTimeoutMs: number;
  terminateTimeoutMs: number;
}

function validate(options: HttpProxyOptions): ProxyConfig {
  if (!options || typeof options !== 'object') {
    throw new TypeError('startHttpProxy options must be an object with remoteUrl and fetch');
  }
  if (typeof options.fetch !== 'function') throw new TypeError('options.fetch must be a function');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('options.port must be an integer from 0 to 65535');
  }
  const host = options.host ?? DEFAULT_PROXY_HOST;
  if (typeof host !== 'string' || host.trim() === '') {
    throw new TypeError('options.host must be a non-empty address');
  }
  const loopback = isLoopbackHost(host);
  if (!loopback && options.allowNonLoopback !== true) {
    throw new TypeError(
      `options.host ${JSON.stringify(host)} is not a loopback address; set allowNonLoopback: true to listen beyond this machine`,
    );
  }
  const allowedHosts: string[] = [];
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) {
      throw new TypeError('options.allowedHosts must be an array of host names or addresses');
    }
    for (const value of options.allowedHosts) {
      if (typeof value !== 'string') {
        throw new TypeError('options.allowedHosts must contain only host names or addresses');
      }
      try {
        allowedHosts.push(normalizeHost(value));
      } catch {
        throw new TypeError(
          `options.allowedHosts contains ${JSON.stringify(value)}, which is not a host name or address`,
        );
      }
    }
  }
  if (
    options.requireToken !== undefined &&
    (typeof options.requireToken !== 'string' ||
      options.requireToken.length < MIN_PROXY_TOKEN_LENGTH ||
      /\s/.test(options.requireToken))
  ) {
    throw new TypeError(
      `options.requireToken must be a string of at least ${MIN_PROXY_TOKEN_LENGTH} characters without spaces`,
    );
  }
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > MAX_MAX_SESSIONS) {
    throw new TypeError(
      `options.maxSessions must be an integer from 1 to ${MAX_MAX_SESSIONS}, got ${String(maxSessions)}`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('options.maxBodyBytes must be a positive integer');
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (
    typeof idleTimeoutMs !== 'number' ||
    !Number.isFinite(idleTimeoutMs) ||
    idleTimeoutMs < 0 ||
    idleTimeoutMs > MAX_TIMER_MS
  ) {
    throw new TypeError(
      `options.idleTimeoutMs must be a number of milliseconds from 0 (never) to ${MAX_TIMER_MS}, got ${String(idleTimeoutMs)}`,
    );
  }
  const reinitializeTimeoutMs = checkMs(
    options.reinitializeTimeoutMs,
    30_000,
    'reinitializeTimeoutMs',
  );
  const terminateTimeoutMs = checkMs(options.terminateTimeoutMs, 3_000, 'terminateTimeoutMs');
  let remote: URL | undefined;
  try {
    remote = new URL(String(options.remoteUrl));
  } catch {
    remote = undefined;
  }
  if (remote?.protocol !== 'http:' && remote?.protocol !== 'https:') {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(String(options.remoteUrl))}`,
    );
  }
  return {
    log: options.logger ?? silentLogger,
    remote,
    port,
    host,
    loopback,
    allowedHosts,
    maxSessions,
    maxBodyBytes,
    idleTimeoutMs,
    reinitializeTimeoutMs,
    terminateTimeoutMs,
  };
}

/** `30 minutes`, `90 seconds`, `1500 ms`: an idle timeout as the log line shows it. */
function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} second${ms === 1000 ? '' : 's'}`;
  return `${ms} ms`;
}
