import {StreamableHTTPError} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {Transport, TransportSendOptions} from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type {FetchLike} from '../../tokens/google-routing.js';
import type {ProxyLogger} from './proxy-logger.js';
import {silentLogger} from './proxy-logger.js';
import {RemoteConnection} from './remote-connection.js';
import {PROXY_ERROR_CODE, describeRemoteFailure, quote} from './remote-failure.js';
import type {RemoteFailure} from './remote-failure.js';

/** Options of {@link ForwardingSession}. */
export interface ForwardingSessionOptions {
  /** The transport the local MCP client talks to (stdio, or one local Streamable HTTP session). */
  local: Transport;
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /** The fetch that reaches the remote, normally `googleAuthFetch` (a fresh token per request). */
  fetch: FetchLike;
  /** Where diagnostics go. Default drops them. */
  logger?: ProxyLogger;
  /**
   * Whether the local client has a stream open for messages that answer no request (the GET
   * stream of Streamable HTTP). When it returns false, server-to-client requests and
   * notifications are sent on the stream of the newest pending request instead, so they are
   * not lost. Default is `() => true` (stdio has a single stream).
   */
  hasStandaloneStream?: () => boolean;
  /** How long a replayed `initialize` may take when the remote session is lost, in milliseconds. Default is 30000 (30 seconds). */
  reinitializeTimeoutMs?: number;
  /**
   * How long after a response stream ends without an answer the pending request is answered
   * with an error, in milliseconds (time for the last events of the stream to be handled).
   * Default is 50.
   */
  streamEndGraceMs?: number;
  /** How long closing waits for the remote to acknowledge the session DELETE, in milliseconds. Default is 3000 (3 seconds). */
  terminateTimeoutMs?: number;
  /**
   * Called after the client's `initialize` was answered with an error (the remote refused or
   * could not be reached), once that answer was handed to the local transport. The HTTP proxy
   * drops such a local session. Default does nothing.
   */
  onInitializeFailed?: () => void;
}

/** A request of the local client that is waiting for its answer. */
interface PendingRequest {
  readonly id: RequestId;
  readonly method: string;
  readonly progressToken: string | number | undefined;
  /** The connection it was last sent on. */
  connection: RemoteConnection | undefined;
  /** The remote accepted it (its POST was answered with a stream or the answer itself). */
  accepted: boolean;
  /** The remote gave event ids on its stream: the SDK resumes it, so its end is not final. */
  resumable: boolean;
}

type RetireReason = 'lost' | 'replaced' | 'closed';

/** How {@link ForwardingSession} forwards one message. */
interface ForwardOptions {
  /** The pending request, for requests of the local client. */
  entry?: PendingRequest;
  /** Send on this connection only (answers to a server-to-client request). */
  pinned?: RemoteConnection | undefined;
  /** Wait for this barrier first (the session start is ordered). */
  after?: Promise<void>;
  /** Release of the barrier this message holds (`notifications/initialized`). */
  opened?: () => void;
}

/** Longest wait for the remote's standing GET stream after `notifications/initialized`, in milliseconds. */
const STANDING_STREAM_WAIT_MS = 3_000;

const INITIALIZED: JSONRPCNotification = {jsonrpc: '2.0', method: 'notifications/initialized'};

/**
 * Forwards one local MCP session to a remote Streamable HTTP MCP server, message by message:
 * requests, responses, notifications (progress, cancellation, logging, list changes) and
 * server-to-client requests (sampling, elicitation, roots) and their answers all pass
 * unchanged, ids included. It is a transport-level pump, not an MCP client: it never answers
 * on behalf of the server except to report that the remote could not be reached.
 *
 * The remote session (its `Mcp-Session-Id`) belongs to the remote transport; the local client
 * never sees it. Every HTTP request goes through `fetch`, so a token rotation is invisible.
 * When the remote answers 404 for our session id (restarted container, expired session), the
 * session re-initializes itself: it replays the client's original `initialize` (and
 * `notifications/initialized`) on a fresh connection, swallows the replayed answer, and sends
 * the failed message again. Limits: whatever the server held for the lost session (in-flight
 * requests, subscriptions, log level, server-side state) is gone; requests that were in
 * flight get a JSON-RPC error saying so, and are not repeated (they may have had effects).
 *
 * @example
 * const session = new ForwardingSession({local: new StdioServerTransport(), remoteUrl, fetch});
 * await session.start();
 * await session.closed;
 */
export class ForwardingSession {
  /** Resolves when the session is closed (by {@link close} or by the local transport). */
  readonly closed: Promise<void>;

  readonly #local: Transport;
  readonly #url: URL;
  readonly #fetch: FetchLike;
  readonly #log: ProxyLogger;
  readonly #hasStandaloneStream: () => boolean;
  readonly #reinitializeTimeoutMs: number;
  readonly #streamEndGraceMs: number;
  readonly #terminateTimeoutMs: number;
  readonly #onInitializeFailed: (() => void) | undefined;

  readonly #open = new Set<RemoteConnection>();
  readonly #retiredBecause = new WeakMap<RemoteConnection, RetireReason>();
  readonly #pending = new Map<RequestId, PendingRequest>();
  readonly #progress = new Map<string | number, RequestId>();
  readonly #serverRequests = new Map<RequestId, RemoteConnection>();
  readonly #waiters = new Map<RequestId, (message: JSONRPCMessage) => void>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #idleWaiters: (() => void)[] = [];
  #current: RemoteConnection | undefined;
  #connections = 0;
  #inFlight = 0;
  #initialize: JSONRPCRequest | undefined;
  /**
   * The session start is ordered: messages that follow `initialize` wait for its answer (there
   * is no session id before it), and messages that follow `notifications/initialized` wait
   * until the remote's standing GET stream is open, so that nothing the server sends right
   * away is lost. `#barrier` is what the next message waits for.
   */
  #barrier: Promise<void> = Promise.resolve();
  /** Releases the barrier of the pending `initialize` (by its id) once it is answered. */
  #handshake: {readonly id: RequestId; release(): void} | undefined;
  readonly #gates = new Set<() => void>();
  #initialized = false;
  #protocolVersion: string | undefined;
  #reinit: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;

  constructor(options: ForwardingSessionOptions) {
    if (!options || typeof options !== 'object') {
      throw new TypeError(
        'ForwardingSession options must be an object with local, remoteUrl and fetch',
      );
    }
    if (typeof options.fetch !== 'function')
      throw new TypeError('options.fetch must be a function');
    if (!options.local || typeof options.local.send !== 'function') {
      throw new TypeError('options.local must be an MCP SDK Transport');
    }
    this.#url = checkRemoteUrl(options.remoteUrl);
    this.#local = options.local;
    this.#fetch = options.fetch;
    this.#log = options.logger ?? silentLogger;
    this.#hasStandaloneStream = options.hasStandaloneStream ?? (() => true);
    this.#reinitializeTimeoutMs = checkMs(
      options.reinitializeTimeoutMs,
      30_000,
      'reinitializeTimeoutMs',
    );
    this.#streamEndGraceMs = checkMs(options.streamEndGraceMs, 50, 'streamEndGraceMs');
    this.#terminateTimeoutMs = checkMs(options.terminateTimeoutMs, 3_000, 'terminateTimeoutMs');
    this.#onInitializeFailed = options.onInitializeFailed;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Remote sessions opened so far (1 unless the remote lost one and it was re-initialized). */
  get remoteSessions(): number {
    return this.#connections;
  }

  /** Requests of the local client still waiting for an answer. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Installs the message handlers and starts the local transport. */
  async start(): Promise<void> {
    this.#local.onmessage = (message) => this.#fromLocal(message);
    this.#local.onerror = (error) => {
      this.#log.debug(`local transport: ${quote(error.message)}`);
    };
    this.#local.onclose = () => {
      void this.close();
    };
    await this.#local.start();
  }

  /**
   * Waits until every request of the local client has its answer (or `timeoutMs` passed),
   * then closes. For stdio, where the client signals the end by closing stdin.
   *
   * @param timeoutMs - Longest wait, in milliseconds. Default is 5000 (5 seconds).
   */
  async drainAndClose(timeoutMs = 5_000): Promise<void> {
    if (!this.#closing && (this.#pending.size > 0 || this.#inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#idleWaiters.push(done);
      });
    }
    await this.close();
  }

  /**
   * Closes the session: ends the remote session with a DELETE (when the remote gave one; waits
   * at most `terminateTimeoutMs`), then closes both transports. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#waiters.clear();
      for (const release of this.#gates) release();
      this.#gates.clear();
      this.#handshake = undefined;
      this.#notifyIdle();
      const connections = [...this.#open];
      await Promise.all(connections.map((connection) => this.#retire(connection, 'closed')));
      this.#local.onclose = undefined;
      await this.#local.close().catch(() => undefined);
    })().finally(() => this.#resolveClosed());
    return this.#closing;
  }

  // ---- local client -> remote ------------------------------------------------------------

  #fromLocal(message: JSONRPCMessage): void {
    if (this.#closing) return;
    const after = this.#barrier;
    if (isRequest(message)) {
      if (message.method === 'initialize') this.#beginSession(message);
      const progressToken = progressTokenOf(message);
      const entry: PendingRequest = {
        id: message.id,
        method: message.method,
        progressToken,
        connection: undefined,
        accepted: false,
        resumable: false,
      };
      this.#pending.set(message.id, entry);
      if (progressToken !== undefined) this.#progress.set(progressToken, message.id);
      void this.#forward(message, {entry, after});
    } else if (isNotification(message)) {
      let opened: (() => void) | undefined;
      if (message.method === 'notifications/initialized') {
        this.#initialized = true;
        opened = this.#gate();
      }
      if (message.method === 'notifications/cancelled') {
        const requestId = (message.params as {requestId?: unknown} | undefined)?.requestId;
        if (typeof requestId === 'string' || typeof requestId === 'number') this.#settle(requestId);
      }
      void this.#forward(message, {after, ...(opened ? {opened} : {})});
    } else if ('id' in message && message.id !== undefined) {
      // The client's answer to a server-to-client request: back to the session that asked.
      const connection = this.#serverRequests.get(message.id);
      this.#serverRequests.delete(message.id);
      if (connection === undefined || connection.retired) {
        this.#log.debug(
          `dropped the client's answer to ${JSON.stringify(message.id)}: no remote session is waiting for it`,
        );
        return;
      }
      void this.#forward(message, {pinned: connection});
    }
  }

  /** A new barrier for the messages that come next; returns its release. */
  #gate(): () => void {
    let release = (): void => undefined;
    this.#barrier = new Promise<void>((resolve) => {
      release = () => {
        this.#gates.delete(release);
        resolve();
      };
    });
    this.#gates.add(release);
    return release;
  }

  /** A (new) `initialize` from the client: a new remote session, the previous one ended. */
  #beginSession(request: JSONRPCRequest): void {
    this.#handshake?.release();
    // Until the remote answered initialize there is no session id to send: a client that
    // pipelines (initialized, tools/list, ...) must not reach the remote before it.
    this.#handshake = {id: request.id, release: this.#gate()};
    this.#initialize = request;
    this.#initialized = false;
    this.#protocolVersion = undefined;
    const previous = this.#current;
    this.#current = undefined;
    if (previous !== undefined) void this.#retire(previous, 'replaced');
  }

  async #forward(message: JSONRPCMessage, how: ForwardOptions, attempt = 0): Promise<void> {
    const {entry, pinned} = how;
    this.#inFlight++;
    try {
      let connection: RemoteConnection;
      if (pinned !== undefined) {
        connection = pinned;
      } else {
        if (how.after !== undefined && attempt === 0) await how.after;
        if (this.#reinit) await this.#reinit.catch(() => undefined);
        if (this.#closing) return;
        connection = this.#current ??= this.#connect();
      }
      if (entry !== undefined) {
        if (this.#pending.get(entry.id) !== entry) return; // cancelled meanwhile
        entry.connection = connection;
      }
      const hadSession = connection.sessionId !== undefined;
      const options: TransportSendOptions | undefined =
        entry === undefined
          ? undefined
          : {
              onresumptiontoken: () => {
                entry.resumable = true;
              },
            };
      try {
        await connection.transport.send(message, options);
        if (entry !== undefined) entry.accepted = true;
        if (how.opened !== undefined)
          await connection.standingStreamSettled(STANDING_STREAM_WAIT_MS);
      } catch (error) {
        if (this.#closing) return;
        const lost =
          this.#retiredBecause.get(connection) === 'lost' || (hadSession && isSessionLost(error));
        if (lost && pinned === undefined && attempt === 0 && !isInitialize(message)) {
          try {
            await this.#reinitialize(connection);
          } catch (reinitError) {
            if (this.#closing) return;
            this.#fail(message, sessionLostFailure(reinitError, this.#url), connection);
            return;
          }
          if (this.#closing) return;
          await this.#forward(message, {...how, pinned: undefined}, attempt + 1);
          return;
        }
        this.#fail(message, error, connection);
      }
    } finally {
      how.opened?.();
      this.#inFlight--;
      this.#notifyIdle();
    }
  }

  // ---- remote -> local client ------------------------------------------------------------

  #fromRemote(connection: RemoteConnection, message: JSONRPCMessage): void {
    if (connection.retired || this.#closing) return;
    if (isRequest(message)) {
      this.#serverRequests.set(message.id, connection);
      void this.#toLocal(message, this.#relate(message));
      return;
    }
    if (isNotification(message)) {
      void this.#toLocal(message, this.#relate(message));
      return;
    }
    const id = (message as {id?: RequestId}).id;
    if (id === undefined) {
      this.#log.debug(`remote sent an error without an id: ${quote(JSON.stringify(message))}`);
      return;
    }
    const waiter = this.#waiters.get(id);
    if (waiter !== undefined) {
      this.#waiters.delete(id);
      waiter(message);
      return;
    }
    const entry = this.#pending.get(id);
    if (entry === undefined || entry.connection !== connection) {
      this.#log.debug(
        `dropped an answer to ${JSON.stringify(id)}: no request of the client waits for it`,
      );
      return;
    }
    this.#settle(id);
    if (entry.method === 'initialize' && 'result' in message) {
      const version = (message.result as {protocolVersion?: unknown}).protocolVersion;
      if (typeof version === 'string') {
        this.#protocolVersion = version;
        connection.transport.setProtocolVersion(version);
      }
      this.#log.debug(`remote session ${connection.number} initialized`);
    }
    const delivered = this.#toLocal(message, {relatedRequestId: id});
    if (entry.method === 'initialize' && 'error' in message)
      void delivered.then(() => this.#initializeFailed());
  }

  /** Which local request a server message belongs with (matters for HTTP, not stdio). */
  #relate(message: JSONRPCRequest | JSONRPCNotification): TransportSendOptions | undefined {
    if (message.method === 'notifications/progress') {
      const token = (message.params as {progressToken?: unknown} | undefined)?.progressToken;
      const id =
        typeof token === 'string' || typeof token === 'number'
          ? this.#progress.get(token)
          : undefined;
      if (id !== undefined && this.#pending.has(id)) return {relatedRequestId: id};
    }
    if (this.#hasStandaloneStream()) return undefined;
    let newest: RequestId | undefined;
    for (const entry of this.#pending.values()) {
      if (entry.accepted) newest = entry.id;
    }
    return newest === undefined ? undefined : {relatedRequestId: newest};
  }

  #toLocal(message: JSONRPCMessage, options: TransportSendOptions | undefined): Promise<void> {
    return this.#local.send(message, options).catch((error: unknown) => {
      this.#log.debug(
        `could not pass a message to the local client: ${quote(error instanceof Error ? error.message : String(error))}`,
      );
    });
  }

  // ---- remote sessions -------------------------------------------------------------------

  #connect(): RemoteConnection {
    const number = ++this.#connections;
    const connection: RemoteConnection = new RemoteConnection({
      url: this.#url,
      fetch: this.#fetch,
      number,
      hooks: {
        onStreamEnd: (ids) => this.#streamEnded(connection, ids),
        onSessionGone: () => {
          if (this.#current !== connection || this.#closing || this.#initialize === undefined)
            return;
          this.#reinitialize(connection).catch((error: unknown) => {
            const failure = sessionLostFailure(error, this.#url);
            this.#log.warn(failure.message);
          });
        },
      },
    });
    connection.transport.onmessage = (message) => this.#fromRemote(connection, message);
    connection.transport.onerror = (error) => {
      if (!connection.retired) this.#log.debug(`remote session ${number}: ${quote(error.message)}`);
    };
    this.#open.add(connection);
    void connection.transport.start();
    return connection;
  }

  /**
   * Replaces `lost` with a fresh remote session, replaying the client's `initialize` and
   * `notifications/initialized`. Concurrent callers share one attempt; a no-op when `lost`
   * was already replaced.
   */
  #reinitialize(lost: RemoteConnection): Promise<void> {
    if (this.#reinit) return this.#reinit;
    if (this.#current !== lost) return Promise.resolve();
    const initialize = this.#initialize;
    if (initialize === undefined) {
      return Promise.reject(new ReinitializeError('the client had not initialized a session yet'));
    }
    this.#log.warn(
      `The remote MCP session at ${this.#url.origin} was lost (the server no longer knows it); starting a new one.`,
    );
    this.#reinit = (async () => {
      const fresh = this.#connect();
      try {
        await this.#replayInitialize(fresh, initialize);
        if (this.#initialized) {
          await fresh.transport.send(INITIALIZED);
          await fresh.standingStreamSettled(STANDING_STREAM_WAIT_MS);
        }
      } catch (error) {
        await this.#retire(fresh, 'closed');
        throw error;
      }
      if (this.#closing) {
        await this.#retire(fresh, 'closed');
        return;
      }
      if (this.#current === lost) this.#current = fresh;
      await this.#retire(lost, 'lost');
      this.#log.info(`Remote MCP session re-established at ${this.#url.origin}.`);
    })().finally(() => {
      this.#reinit = undefined;
    });
    return this.#reinit;
  }

  async #replayInitialize(connection: RemoteConnection, initialize: JSONRPCRequest): Promise<void> {
    const id = `mcp-google-auth-reinitialize-${connection.number}`;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
      this.#waiters.set(id, resolve);
      timer = setTimeout(() => {
        reject(
          new ReinitializeError(
            `the server did not answer the replayed initialize within ${this.#reinitializeTimeoutMs} ms`,
          ),
        );
      }, this.#reinitializeTimeoutMs);
    });
    // A timeout while the POST itself is still waiting must not be an unhandled rejection.
    answer.catch(() => undefined);
    try {
      const sent = connection.transport.send({...initialize, id});
      const message = await Promise.race([sent.then(() => answer), answer]);
      if ('error' in message) {
        throw new ReinitializeError(
          `the server refused the replayed initialize: ${quote((message as JSONRPCErrorResponse).error.message)}`,
        );
      }
      const version = (message as {result?: {protocolVersion?: unknown}}).result?.protocolVersion;
      if (typeof version === 'string') {
        connection.transport.setProtocolVersion(version);
        if (this.#protocolVersion !== undefined && version !== this.#protocolVersion) {
          this.#log.warn(
            `The new remote session speaks MCP ${version}, the client negotiated ${this.#protocolVersion}; messages are passed on unchanged.`,
          );
        }
      }
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(id);
    }
  }

  /** Stops using `connection`: ends its session when asked, fails what it still owed, closes it. */
  async #retire(connection: RemoteConnection, reason: RetireReason): Promise<void> {
    if (connection.retired) return;
    connection.retired = true;
    this.#retiredBecause.set(connection, reason);
    if (this.#current === connection) this.#current = undefined;
    if (reason === 'lost') {
      for (const entry of [...this.#pending.values()]) {
        if (entry.connection === connection && entry.accepted) {
          this.#answerWithError(entry, {
            reason: 'session_lost',
            message: `The remote MCP session was lost while ${entry.method} was in progress, so its answer is lost too; retry it if that is safe.`,
          });
        }
      }
    }
    for (const [id, owner] of this.#serverRequests) {
      if (owner === connection) this.#serverRequests.delete(id);
    }
    if (reason !== 'lost' && connection.sessionId !== undefined) {
      await this.#terminate(connection);
    }
    await connection.close().catch(() => undefined);
    this.#open.delete(connection);
  }

  /** DELETE of the remote session, bounded by `terminateTimeoutMs`; failures only logged. */
  async #terminate(connection: RemoteConnection): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#terminateTimeoutMs);
    });
    try {
      await Promise.race([
        connection.transport.terminateSession().then(
          () => this.#log.debug(`remote session ${connection.number} ended`),
          (error: unknown) =>
            this.#log.debug(
              `could not end remote session ${connection.number}: ${quote(error instanceof Error ? error.message : String(error))}`,
            ),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A response stream of `connection` ended: requests it owed and did not answer get an error. */
  #streamEnded(connection: RemoteConnection, ids: readonly RequestId[]): void {
    if (this.#closing) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closing) return;
      for (const id of ids) {
        const entry = this.#pending.get(id);
        if (entry === undefined || entry.connection !== connection || entry.resumable) continue;
        const lost = this.#retiredBecause.get(connection) === 'lost';
        this.#answerWithError(entry, {
          reason: lost ? 'session_lost' : 'stream_ended',
          message: lost
            ? `The remote MCP session was lost while ${entry.method} was in progress, so its answer is lost too; retry it if that is safe.`
            : `The remote MCP server at ${this.#url.origin} closed the response stream without answering ${entry.method} (it may have restarted); retry it if that is safe.`,
        });
      }
    }, this.#streamEndGraceMs);
    this.#timers.add(timer);
  }

  // ---- failures --------------------------------------------------------------------------

  #fail(message: JSONRPCMessage, error: unknown, connection: RemoteConnection): void {
    const failure = isRemoteFailure(error)
      ? error
      : describeRemoteFailure(
          error,
          this.#url,
          connection.takeAuthFailure(JSON.stringify(message)),
        );
    if (isRequest(message)) {
      const entry = this.#pending.get(message.id);
      if (entry !== undefined) this.#answerWithError(entry, failure);
      return;
    }
    const what = isNotification(message) ? message.method : 'an answer to a server request';
    this.#log.warn(`Could not forward ${what}: ${failure.message}`);
    if (failure.hint) this.#log.info(failure.hint);
  }

  /** Answers a pending request with the proxy's JSON-RPC error, and says so on stderr. */
  #answerWithError(entry: PendingRequest, failure: RemoteFailure): void {
    if (this.#pending.get(entry.id) !== entry) return;
    this.#settle(entry.id);
    this.#log.error(`${entry.method}: ${failure.message}`);
    if (failure.hint) this.#log.info(failure.hint);
    const error: JSONRPCErrorResponse = {
      jsonrpc: '2.0',
      id: entry.id,
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
    const delivered = this.#toLocal(error, {relatedRequestId: entry.id});
    if (entry.method === 'initialize') void delivered.then(() => this.#initializeFailed());
  }

  #initializeFailed(): void {
    if (this.#closing || this.#onInitializeFailed === undefined) return;
    try {
      this.#onInitializeFailed();
    } catch (error) {
      this.#log.debug(
        `onInitializeFailed threw: ${quote(error instanceof Error ? error.message : String(error))}`,
      );
    }
  }

  #settle(id: RequestId): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    this.#pending.delete(id);
    if (this.#handshake?.id === id) {
      this.#handshake.release();
      this.#handshake = undefined;
    }
    if (entry.progressToken !== undefined && this.#progress.get(entry.progressToken) === id) {
      this.#progress.delete(entry.progressToken);
    }
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (!this.#closing && (this.#pending.size > 0 || this.#inFlight > 0)) return;
    for (const done of this.#idleWaiters.splice(0)) done();
  }
}

function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message && message.id !== undefined;
}

function isNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && !('id' in message);
}

function isInitialize(message: JSONRPCMessage): boolean {
  return isRequest(message) && message.method === 'initialize';
}

function progressTokenOf(message: JSONRPCRequest): string | number | undefined {
  const meta = (message.params as {_meta?: {progressToken?: unknown}} | undefined)?._meta;
  const token = meta?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * Whether an error of `send` means the remote no longer knows our session: HTTP 404 (the
 * MCP rule), or a 400 whose message is about the session id (what many SDK-based servers
 * answer for an unknown session).
 */
function isSessionLost(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  if (error.code === 404) return true;
  return error.code === 400 && /session/i.test(error.message);
}

function isRemoteFailure(value: unknown): value is RemoteFailure {
  return (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Error) &&
    typeof (value as RemoteFailure).reason === 'string' &&
    typeof (value as RemoteFailure).message === 'string'
  );
}

/** Why replaying the client's `initialize` on a fresh remote session failed. */
class ReinitializeError extends Error {}

function sessionLostFailure(error: unknown, url: URL): RemoteFailure {
  const inner = describeRemoteFailure(error, url);
  const because = error instanceof ReinitializeError ? error.message : inner.message;
  return {
    reason: 'session_lost',
    message: `The remote MCP session at ${url.origin} was lost and a new one could not be started: ${because}`,
    ...(inner.httpStatus !== undefined ? {httpStatus: inner.httpStatus} : {}),
    ...(inner.hint ? {hint: inner.hint} : {}),
  };
}

function checkRemoteUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = value instanceof URL ? value : new URL(value);
  } catch {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(String(value))}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(url.href)}`,
    );
  }
  return url;
}

function checkMs(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`options.${name} must be a number of milliseconds >= 0`);
  }
  return value;
}
