import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {isInitializeRequest} from '@modelcontextprotocol/sdk/types.js';
import type {FetchLike} from '../../tokens/google-routing.js';
import {recordProxySession} from '../../telemetry/proxy-telemetry.js';
import {ForwardingSession} from './forwarding-session.js';
import {IdleTimer, MAX_TIMER_MS} from './idle-timer.js';
import type {ProxyTimers} from './idle-timer.js';
import {DEFAULT_PROXY_HOST, isLoopbackHost, refuseLocalRequest} from './loopback.js';
import type {ProxyLogger} from './proxy-logger.js';
import {silentLogger} from './proxy-logger.js';
import {
  ANSWERED,
  headerValue,
  listen,
  readJsonRpcBody,
  sendJsonRpcError,
} from '../../util/node-http.js';

/** Options of {@link startHttpProxy}. */
export interface HttpProxyOptions {
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /** The fetch that reaches the remote, normally `googleAuthFetch` (a fresh token per request). */
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
  /** Diagnostics (stderr in the command). Default drops them. */
  logger?: ProxyLogger;
  /** Largest JSON-RPC body read before a session exists, in bytes. Default is 4194304 (4 MiB). */
  maxBodyBytes?: number;
  /**
   * Closes a local session (and ends its remote session with a DELETE, as the client's own
   * DELETE would) once it has been idle this long, in milliseconds: no request of the local
   * client in flight and no open GET stream. A client that comes back with the old session id
   * gets 404 and re-initializes. 0 never closes an idle session. At most 2147483647 (about 24.8
   * days). Default is 1800000 (30 minutes).
   */
  idleTimeoutMs?: number;
  /** Timers for {@link idleTimeoutMs}, for tests that drive time by hand. Default is the global ones. */
  timers?: ProxyTimers;
}

/** Default {@link HttpProxyOptions.idleTimeoutMs}: 30 minutes, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

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
  /** Ends every session (DELETE to the remote, bounded wait) and stops listening. Idempotent. */
  close(): Promise<void>;
}

interface LocalSession {
  readonly transport: StreamableHTTPServerTransport;
  readonly forwarding: ForwardingSession;
  /** Open GET streams of the local client (messages that answer no request go there). */
  standaloneStreams: number;
  /** Counts the local requests in flight (GET streams included); closes the session when idle. */
  readonly idle: IdleTimer;
}

/** The MCP endpoint path of the local server. */
const MCP_PATH = '/mcp';

/**
 * Serves a local Streamable HTTP MCP endpoint at `http://HOST:PORT/mcp` and forwards each
 * local session to its own remote session (one MCP SDK `StreamableHTTPServerTransport` on the
 * local side paired with a {@link ForwardingSession}). The local and remote session ids are
 * unrelated; tokens never reach the local client.
 *
 * Listens on `127.0.0.1` unless told otherwise. On loopback, requests whose `Host` is not a
 * loopback name are refused (DNS rebinding), and so are browser requests from another site
 * (`Origin`), whatever the address.
 *
 * @example
 * const proxy = await startHttpProxy({remoteUrl, fetch: googleAuthFetch({authCredential, targetUrl: remoteUrl}), port: 3000});
 * // point any MCP client at proxy.url
 */
export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  if (!options || typeof options !== 'object') {
    throw new TypeError('startHttpProxy options must be an object with remoteUrl and fetch');
  }
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
  const log = options.logger ?? silentLogger;
  const remoteUrl = options.remoteUrl;
  let remote: URL | undefined;
  try {
    remote = new URL(String(remoteUrl));
  } catch {
    remote = undefined;
  }
  if (remote?.protocol !== 'http:' && remote?.protocol !== 'https:') {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(String(remoteUrl))}`,
    );
  }

  const sessions = new Map<string, LocalSession>();
  const starting = new Set<LocalSession>();
  /** Sessions closed for idleness whose remote DELETE may still be under way. */
  const ending = new Set<LocalSession>();

  /** Counts the request `res` answers as activity of `session` until its response closes. */
  function track(session: LocalSession, res: ServerResponse): void {
    session.idle.enter();
    res.once('close', () => session.idle.leave());
  }

  function closeIdle(session: LocalSession): void {
    const id = session.transport.sessionId;
    if (id === undefined || sessions.get(id) !== session) return;
    // Unknown from now on: the client's next request gets 404 and it re-initializes.
    sessions.delete(id);
    ending.add(session);
    log.info(
      `Closed local session ${id.slice(0, 8)} after ${describeDuration(idleTimeoutMs)} idle (no request, no open stream); ending its remote session.`,
    );
    void session.forwarding.close();
  }

  async function openSession(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ): Promise<void> {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, session);
        starting.delete(session);
        log.debug(`local session ${id.slice(0, 8)} opened`);
        recordProxySession('http', 1);
      },
      // The client's DELETE is answered once the remote session has been ended too.
      onsessionclosed: () => forwarding.close(),
    });
    const forwarding: ForwardingSession = new ForwardingSession({
      local: transport,
      remoteUrl,
      fetch: options.fetch,
      logger: log,
      hasStandaloneStream: () => session.standaloneStreams > 0,
      onInitializeFailed: () => {
        void forwarding.close();
      },
    });
    const session: LocalSession = {
      transport,
      forwarding,
      standaloneStreams: 0,
      idle: new IdleTimer(idleTimeoutMs, () => closeIdle(session), options.timers),
    };
    starting.add(session);
    track(session, res);
    void forwarding.closed.then(() => {
      if (transport.sessionId !== undefined) recordProxySession('http', -1);
      session.idle.dispose();
      starting.delete(session);
      ending.delete(session);
      const id = transport.sessionId;
      if (id !== undefined && sessions.get(id) === session) {
        sessions.delete(id);
        log.debug(`local session ${id.slice(0, 8)} closed`);
      }
    });
    await forwarding.start();
    await transport.handleRequest(req, res, body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) {
      res
        .writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
        .end(`Not found: the MCP endpoint is ${MCP_PATH}\n`);
      return;
    }
    const refusal = refuseLocalRequest(
      {host: req.headers.host, origin: req.headers.origin},
      loopback,
    );
    if (refusal !== undefined) {
      log.warn(`Refused a request to the proxy: ${refusal}.`);
      sendJsonRpcError(res, 403, -32000, `Forbidden: ${refusal}`);
      return;
    }
    const sessionId = headerValue(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      track(session, res);
      if (req.method === 'GET') {
        session.standaloneStreams++;
        res.once('close', () => {
          session.standaloneStreams--;
        });
      }
      await session.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      if (req.method === 'GET' || req.method === 'DELETE') {
        sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      } else {
        res.setHeader('allow', 'GET, POST, DELETE');
        sendJsonRpcError(res, 405, -32000, 'Method not allowed.');
      }
      return;
    }
    const body = await readJsonRpcBody(req, res, maxBodyBytes);
    if (body === ANSWERED) return;
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    if (!messages.some((message) => isInitializeRequest(message))) {
      sendJsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
      return;
    }
    await openSession(req, res, body);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.debug(`local request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.destroy();
    });
  });

  if (!loopback) {
    // Said before binding, so that it is shown whether or not the address can be bound.
    log.warn(
      `The proxy listens on ${host}, beyond this machine: anyone who can reach ${port === 0 ? 'its port' : `port ${port}`} calls ${remote.origin} as this proxy's Google identity (the service account).`,
    );
  }
  await listen(server, port, host);
  const address = server.address() as AddressInfo;
  const shownHost =
    address.family === 'IPv6' || address.address.includes(':')
      ? `[${address.address}]`
      : address.address;
  const url = `http://${shownHost}:${address.port}${MCP_PATH}`;
  log.info(`Proxy ready: ${url} -> ${remote.href}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    get sessions() {
      return sessions.size;
    },
    close() {
      closing ??= (async () => {
        const all = [...sessions.values(), ...starting, ...ending];
        for (const session of all) session.idle.dispose();
        await Promise.all(all.map((session) => session.forwarding.close()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

/** `30 minutes`, `90 seconds`, `1500 ms`: an idle timeout as the log line shows it. */
function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} second${ms === 1000 ? '' : 's'}`;
  return `${ms} ms`;
}
