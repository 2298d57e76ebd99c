import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import type {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {SSEServerTransport} from '@modelcontextprotocol/sdk/server/sse.js';
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {isInitializeRequest} from '@modelcontextprotocol/sdk/types.js';
import {checkIdleTimeoutMs, IdleTimer} from '../util/idle-timer.js';
import type {ProxyTimers} from '../util/idle-timer.js';
import {ConnectionGenerations} from './front/connection-generations.js';
import {createDemoToolServer} from './front/demo-tools.js';
import {
  ANSWERED,
  headerValue,
  listen,
  readJsonRpcBody,
  sendJsonRpcError,
} from '../util/node-http.js';

/** Options of {@link startDemoMcpServer}. */
export interface DemoMcpServerOptions {
  /** TCP port on 127.0.0.1. Default is 0 (any free port). */
  port?: number;
  /**
   * Most sessions open at once (Streamable HTTP and SSE together, those starting included);
   * a new one past it gets 503 with `Retry-After`. From 1 to 100000. Default is 1000.
   */
  maxSessions?: number;
  /**
   * Closes a Streamable HTTP session that has been idle this long, in milliseconds: no
   * request in flight and no open stream (its next request gets 404, as after a restart).
   * 0 never closes one. At most 2147483647. Default is 600000 (10 minutes). An SSE session
   * lasts as long as its event stream.
   */
  idleTimeoutMs?: number;
  /** Timers for {@link idleTimeoutMs}, for tests that drive time by hand. Default is the global ones. */
  timers?: ProxyTimers;
}

/** Default {@link DemoMcpServerOptions.maxSessions}. */
const DEFAULT_MAX_SESSIONS = 1000;
/** Default {@link DemoMcpServerOptions.idleTimeoutMs}: 10 minutes. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Seconds a client is told to wait (`Retry-After`) when every session is taken. */
const RETRY_AFTER_SECONDS = 10;

/** Live counters of a {@link DemoMcpServer}. */
export interface DemoMcpServerStats {
  /** MCP sessions created since start (Streamable HTTP and SSE together). */
  readonly sessions: number;
  /** Of {@link sessions}, those opened over the SSE transport (`/sse`). */
  readonly sseSessions: number;
  /** Sessions currently open. */
  readonly activeSessions: number;
  /** Tool calls received (every tool, every transport). */
  readonly toolCalls: number;
  /** Tool calls that stopped because the client cancelled them (`notifications/cancelled`). */
  readonly cancelledToolCalls: number;
  /** Sessions dropped by {@link DemoMcpServer.forgetSessions}. */
  readonly forgottenSessions: number;
  /** Requests that named a session id the server does not know (answered 404). */
  readonly unknownSessionRequests: number;
  /** Sessions closed after `idleTimeoutMs` without a request. */
  readonly expiredSessions: number;
  /** New sessions refused because `maxSessions` were open (503). */
  readonly refusedSessions: number;
}

/** A running demo MCP server (see {@link startDemoMcpServer}). */
export interface DemoMcpServer {
  /** The Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT` (the `upstream` to give a Cloud Run gateway). */
  readonly origin: string;
  /** The SSE transport endpoint, `http://127.0.0.1:PORT/sse` (messages go to `/messages`). */
  readonly sseUrl: string;
  /** Live counters; read them at any time. */
  readonly stats: DemoMcpServerStats;
  /**
   * Drops every open session, as a restarted container would: open streams end and the next
   * request that names an old session id gets 404 `Session not found`. Returns how many
   * sessions were dropped.
   */
  forgetSessions(): number;
  /**
   * Restarts as a new instance behind the same URL would: every session is dropped (as
   * {@link forgetSessions}), and the open connections are retired without a gap (requests in
   * flight are answered, each connection closes after its next response or when idle). New
   * connections reach the new instance. Returns how many sessions were dropped.
   */
  restart(): number;
  /** Closes every session, the server and its open sockets. */
  close(): Promise<void>;
}

/** Largest JSON-RPC body read from an initialize request, in bytes (4 MiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

interface Session {
  readonly transport: StreamableHTTPServerTransport | SSEServerTransport;
  readonly server: McpServer;
  /** Streamable HTTP only: closes the session once idle. */
  readonly idle?: IdleTimer;
}

/**
 * Starts a real MCP SDK 1.x server on 127.0.0.1 to stand behind a Cloud Run gateway in tests
 * and in the demo. It serves:
 * - Streamable HTTP at `/mcp` (stateful: every session has an `Mcp-Session-Id`; an unknown id
 *   gets 404, a request without one that is not `initialize` gets 400);
 * - the legacy SSE transport at `/sse` (GET, the event stream) and `/messages?sessionId=`
 *   (POST).
 *
 * Tools: `echo {text}`, `add {a, b}`, `whoami` (the caller's email read, unverified, from the
 * forwarded token; `anonymous` without one) and `slow_count {n, delayMs?}` (progress
 * notifications when the call carries a `progressToken`).
 *
 * @example
 * const demo = await startDemoMcpServer();
 * const gateway = await startCloudRunGateway({upstream: demo.origin, jwksUrl: emu.jwksUrl});
 * // MCP clients connect to `${gateway.url}/mcp`
 */
export async function startDemoMcpServer(
  options: DemoMcpServerOptions = {},
): Promise<DemoMcpServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('options.port must be an integer from 0 to 65535');
  }
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > 100_000) {
    throw new TypeError(
      `options.maxSessions must be an integer from 1 to 100000, got ${String(maxSessions)}`,
    );
  }
  const idleTimeoutMs = checkIdleTimeoutMs(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);

  const sessions = new Map<string, Session>();
  /** Streamable HTTP sessions whose initialize is being handled (not yet in `sessions`). */
  let starting = 0;
  const counts = {
    sessions: 0,
    sseSessions: 0,
    toolCalls: 0,
    cancelledToolCalls: 0,
    forgottenSessions: 0,
    unknownSessionRequests: 0,
    expiredSessions: 0,
    refusedSessions: 0,
  };
  const stats: DemoMcpServerStats = {
    get sessions() {
      return counts.sessions;
    },
    get sseSessions() {
      return counts.sseSessions;
    },
    get activeSessions() {
      return sessions.size;
    },
    get toolCalls() {
      return counts.toolCalls;
    },
    get cancelledToolCalls() {
      return counts.cancelledToolCalls;
    },
    get forgottenSessions() {
      return counts.forgottenSessions;
    },
    get unknownSessionRequests() {
      return counts.unknownSessionRequests;
    },
    get expiredSessions() {
      return counts.expiredSessions;
    },
    get refusedSessions() {
      return counts.refusedSessions;
    },
  };

  /** Refuses a new session when `maxSessions` are open or starting (503, Retry-After); true when refused. */
  function full(res: ServerResponse): boolean {
    if (sessions.size + starting < maxSessions) return false;
    counts.refusedSessions++;
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    sendJsonRpcError(
      res,
      503,
      -32000,
      `Service Unavailable: the server already holds its maximum of ${maxSessions} sessions; retry later.`,
    );
    return true;
  }
  const onToolCall = (): void => {
    counts.toolCalls++;
  };
  const onCancelled = (): void => {
    counts.cancelledToolCalls++;
  };

  function dropSession(id: string): void {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    session.idle?.dispose();
    void session.server.close().catch(() => undefined);
  }

  /** Counts the request `res` answers as activity of `session` until its response closes. */
  function track(session: Session, res: ServerResponse): void {
    if (!session.idle) return;
    session.idle.enter();
    res.once('close', () => session.idle?.leave());
  }

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = headerValue(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session || !(session.transport instanceof StreamableHTTPServerTransport)) {
        counts.unknownSessionRequests++;
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      track(session, res);
      await session.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    const body = await readJsonRpcBody(req, res, MAX_BODY_BYTES);
    if (body === ANSWERED) return;
    const messages = Array.isArray(body) ? body : [body];
    if (!messages.some((message) => isInitializeRequest(message))) {
      sendJsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
      return;
    }
    if (full(res)) return;
    const server = createDemoToolServer(onToolCall, onCancelled);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        counts.sessions++;
        const session: Session = {
          transport,
          server,
          idle: new IdleTimer(
            idleTimeoutMs,
            () => {
              if (sessions.get(id) !== session) return;
              counts.expiredSessions++;
              dropSession(id);
            },
            options.timers,
          ),
        };
        sessions.set(id, session);
        track(session, res);
      },
      onsessionclosed: (id) => {
        dropSession(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) dropSession(transport.sessionId);
    };
    starting++;
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      starting--;
    }
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) {
      // A refused initialize (406, 415, a bad message): nothing may stay behind.
      void server.close().catch(() => undefined);
    }
  }

  async function handleSseOpen(res: ServerResponse): Promise<void> {
    if (full(res)) return;
    const server = createDemoToolServer(onToolCall, onCancelled);
    const transport = new SSEServerTransport('/messages', res);
    const id = transport.sessionId;
    sessions.set(id, {transport, server});
    counts.sessions++;
    counts.sseSessions++;
    transport.onclose = () => {
      dropSession(id);
    };
    await server.connect(transport);
  }

  async function handleSseMessage(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    const id = url.searchParams.get('sessionId') ?? '';
    const session = sessions.get(id);
    if (!session || !(session.transport instanceof SSEServerTransport)) {
      counts.unknownSessionRequests++;
      sendJsonRpcError(res, 404, -32001, 'Session not found');
      return;
    }
    await session.transport.handlePostMessage(req, res);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/mcp') return handleMcp(req, res);
    if (url.pathname === '/sse' && req.method === 'GET') return handleSseOpen(res);
    if (url.pathname === '/messages' && req.method === 'POST')
      return handleSseMessage(req, res, url);
    res.writeHead(404, {'content-type': 'text/plain; charset=utf-8'}).end('Not found\n');
  }

  const httpServer: Server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) {
        sendJsonRpcError(res, 500, -32603, 'Internal error');
      } else {
        res.destroy();
      }
    });
  });

  const generations = new ConnectionGenerations(httpServer);
  function forgetSessions(): number {
    const ids = [...sessions.keys()];
    counts.forgottenSessions += ids.length;
    for (const id of ids) dropSession(id);
    return ids.length;
  }
  await listen(httpServer, port, '127.0.0.1');
  const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

  return {
    url: `${origin}/mcp`,
    origin,
    sseUrl: `${origin}/sse`,
    stats,
    forgetSessions,
    restart() {
      generations.retire();
      return forgetSessions();
    },
    async close() {
      for (const id of [...sessions.keys()]) dropSession(id);
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}
