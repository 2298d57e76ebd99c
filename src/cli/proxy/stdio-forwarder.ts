import type {Readable, Writable} from 'node:stream';
import {
  INVALID_REQUEST,
  answeredIds,
  errorAnswer,
  isId,
  negotiatedVersion,
  parseJson,
} from './json-rpc.js';
import type {JsonRpcId, RequestRef} from './json-rpc.js';
import type {ProxyLogger} from './proxy-logger.js';
import {JSON_RPC_POST_HEADERS} from './remote-endpoint.js';
import type {RemoteEndpoint} from './remote-endpoint.js';
import {describeRemoteError, failureAnswer, quote} from './remote-failure.js';
import type {RemoteFailure} from './remote-failure.js';
import {discardReply, isEventStream, readReplyText, replyHeader} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';
import {RemoteSession, refusal} from './remote-session.js';
import {SseParser} from './sse-parser.js';
import {eventStreamHeaders, openStandingStream} from './standing-stream.js';
import {LineSplitter, classifyLine} from './stdio-lines.js';
import type {StdioMessage} from './stdio-lines.js';

/** Largest JSON answer to a POST read at once, in bytes (4 MiB). */
const MAX_JSON_ANSWER_BYTES = 4 * 1024 * 1024;

/** How many times a resumable response stream that broke off is resumed. */
const MAX_RESUMES = 2;

/** What a {@link StdioForwarder} works with (the checked options of `startStdioProxy`). */
export interface StdioForwarderConfig {
  endpoint: RemoteEndpoint;
  stdin: Readable;
  stdout: Writable;
  log: ProxyLogger;
  drainTimeoutMs: number;
  reinitializeTimeoutMs: number;
  terminateTimeoutMs: number;
  maxLineBytes: number;
}

/**
 * The stdio proxy's work: lines of the client in, one HTTP POST each out (the line's bytes
 * unchanged), every event of the answers back as a line. See `startStdioProxy`.
 */
export class StdioForwarder {
  readonly closed: Promise<void>;
  readonly #c: StdioForwarderConfig;
  readonly #abort = new AbortController();
  /** Requests of the client waiting for their answer, by id. */
  readonly #pending = new Map<JsonRpcId, string>();
  #session: RemoteSession | undefined;
  #sessionsOpened = 0;
  /** What the next message waits for: the answer to `initialize`, then the standing stream. */
  #barrier: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  #stopStanding: (() => void) | undefined;

  constructor(config: StdioForwarderConfig) {
    this.#c = config;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get remoteSessions(): number {
    return this.#sessionsOpened + Math.max(0, (this.#session?.opened ?? 1) - 1);
  }

  start(): void {
    const {stdin, stdout, log} = this.#c;
    const lines = new LineSplitter(
      this.#c.maxLineBytes,
      (line) => this.#onLine(line),
      () =>
        this.#write(
          errorAnswer(
            INVALID_REQUEST,
            `Invalid Request: the message is longer than ${this.#c.maxLineBytes} bytes.`,
          ),
        ),
    );
    const onData = (chunk: Buffer | string): void => {
      lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const onEnd = (): void => {
      lines.end();
      void this.drainAndClose();
    };
    const onOutputError = (error: Error): void => {
      // The client went away (EPIPE): nobody reads the answers any more.
      log.debug(`stdout: ${error.message}`);
      void this.close();
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('close', onEnd);
    stdout.on('error', onOutputError);
    void this.closed.then(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('close', onEnd);
      stdout.off('error', onOutputError);
    });
    stdin.resume();
  }

  /** Waits (at most `drainTimeoutMs`) until every request has its answer, then closes. */
  async drainAndClose(): Promise<void> {
    if (!this.#closing && (this.#pending.size > 0 || this.#inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#c.drainTimeoutMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#idleWaiters.push(done);
      });
    }
    await this.close();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopStanding?.();
      this.#abort.abort();
      for (const done of this.#idleWaiters.splice(0)) done();
      const session = this.#session;
      this.#session = undefined;
      await session?.end(this.#c.terminateTimeoutMs);
    })().finally(() => this.#resolveClosed());
    return this.#closing;
  }

  // ---- client -> remote --------------------------------------------------------------------

  #onLine(line: Uint8Array): void {
    if (this.#closing) return;
    const message = classifyLine(line);
    switch (message.kind) {
      case 'invalid':
        this.#c.log.warn(`The client sent a malformed message: ${message.answer.error.message}`);
        this.#write(message.answer);
        return;
      case 'request':
        if (message.method === 'initialize') {
          this.#initialize(message);
          return;
        }
        this.#pending.set(message.id, message.method);
        void this.#after(this.#barrier, () => this.#post(message.bytes, message));
        return;
      case 'notification': {
        if (message.method === 'notifications/cancelled') {
          const requestId = (message.params as {requestId?: unknown} | undefined)?.requestId;
          // The client gave up on it: no answer is owed any more, not even an error.
          if (isId(requestId)) this.#settle(requestId);
        }
        if (message.method === 'notifications/initialized') {
          this.#initialized(message.bytes);
          return;
        }
        void this.#after(this.#barrier, () => this.#post(message.bytes));
        return;
      }
      case 'response':
        void this.#after(this.#barrier, () => this.#post(message.bytes));
        return;
    }
  }

  /** Runs `send` once `barrier` is passed, counting it as work in flight. */
  async #after(barrier: Promise<void>, send: () => Promise<void>): Promise<void> {
    this.#inFlight++;
    try {
      await barrier;
      if (!this.#closing) await send();
    } catch (error) {
      this.#c.log.debug(
        `forwarding failed: ${quote(error instanceof Error ? error.message : String(error))}`,
      );
    } finally {
      this.#inFlight--;
      this.#notifyIdle();
    }
  }

  /** A (new) `initialize`: a new remote session; the previous one, if any, is ended. */
  #initialize(message: Extract<StdioMessage, {kind: 'request'}>): void {
    const previous = this.#session;
    this.#session = undefined;
    this.#stopStanding?.();
    if (previous !== undefined) void previous.end(this.#c.terminateTimeoutMs);
    this.#pending.set(message.id, message.method);
    const started = this.#after(this.#barrier, async () => {
      const reply = await this.#send(message.bytes, undefined, message);
      if (reply === undefined) return;
      const id = replyHeader(reply, 'mcp-session-id');
      let version: string | undefined;
      await this.#deliver(reply, message, (data) => {
        version ??= negotiatedVersion(data);
      });
      this.#sessionsOpened++;
      this.#session = new RemoteSession({
        endpoint: this.#c.endpoint,
        initialize: message.bytes,
        id,
        protocolVersion: version,
        logger: this.#c.log,
        reinitializeTimeoutMs: this.#c.reinitializeTimeoutMs,
      });
    });
    // Until the remote answered initialize there is no session id to send: a client that
    // pipelines (initialized, tools/list, ...) must not reach the remote before it.
    this.#barrier = started;
  }

  /** The client's `notifications/initialized`: forwarded, kept for replays, then the standing stream opens. */
  #initialized(bytes: Uint8Array): void {
    let release = (): void => undefined;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = this.#barrier;
    void this.#after(before, async () => {
      try {
        this.#session?.setInitialized(bytes);
        await this.#post(bytes);
        const session = this.#session;
        if (session?.id !== undefined) {
          // What the server sends right away must not be lost: wait (bounded) for the stream.
          await this.#openStanding(session);
        }
      } finally {
        release();
      }
    });
    this.#barrier = opened;
  }

  /**
   * POSTs one message and passes the answer on. A 404 for the session means the remote lost
   * it: the session is opened again (the client's own initialize replayed) and the message
   * sent once more.
   */
  async #post(bytes: Uint8Array, request?: RequestRef): Promise<void> {
    const reply = await this.#send(bytes, this.#session, request);
    if (reply !== undefined) await this.#deliver(reply, request);
  }

  /**
   * Sends `bytes` on `session` (none for `initialize`); returns the 2xx reply, or undefined
   * once the failure has been answered or reported.
   */
  async #send(
    bytes: Uint8Array,
    session: RemoteSession | undefined,
    request: RequestRef | undefined,
    retried = false,
  ): Promise<RemoteReply | undefined> {
    const url = this.#c.endpoint.url;
    const remoteId = session?.id;
    const headers: Record<string, string> = {...JSON_RPC_POST_HEADERS};
    if (remoteId !== undefined) headers['mcp-session-id'] = remoteId;
    if (session?.protocolVersion !== undefined)
      headers['mcp-protocol-version'] = session.protocolVersion;
    let reply: RemoteReply;
    try {
      reply = await this.#c.endpoint.send('POST', headers, bytes, this.#abort.signal);
    } catch (error) {
      if (this.#closing) return undefined;
      this.#fail(request, describeRemoteError(error, url));
      return undefined;
    }
    const status = reply.status;
    if (status >= 200 && status <= 299) return reply;
    let text: string | undefined;
    if (
      session !== undefined &&
      remoteId !== undefined &&
      !retried &&
      (status === 404 || status === 400)
    ) {
      let lost = status === 404;
      if (status === 400) {
        text = await readReplyText(reply, 64 * 1024);
        lost = /session/i.test(text);
      }
      if (lost) {
        discardReply(reply);
        const failure = await session.reestablish(remoteId);
        if (this.#closing) return undefined;
        if (failure !== undefined) {
          this.#fail(request, failure);
          return undefined;
        }
        if (session === this.#session && session.id !== undefined && session.initializedSeen) {
          void this.#openStanding(session);
        }
        return this.#send(bytes, session, request, true);
      }
    }
    const contentType = replyHeader(reply, 'content-type') ?? '';
    if (status !== 401 && status !== 403 && /json/i.test(contentType)) {
      // The MCP server's own JSON-RPC error: passed on, with the request's id when it named none.
      text ??= await readReplyText(reply, MAX_JSON_ANSWER_BYTES);
      const parsed = parseJson(text) as
        {error?: {code?: unknown; message?: unknown}; id?: unknown} | symbol;
      if (typeof parsed === 'object' && parsed !== null && parsed.error !== undefined) {
        if (request !== undefined && !isId(parsed.id)) {
          this.#settle(request.id);
          this.#write({
            jsonrpc: '2.0',
            id: request.id,
            error: {
              code: typeof parsed.error.code === 'number' ? parsed.error.code : -32000,
              message:
                typeof parsed.error.message === 'string' ? parsed.error.message : `HTTP ${status}`,
            },
          });
        } else {
          this.#writeData(text);
          if (request !== undefined) this.#settle(request.id);
        }
        return undefined;
      }
    }
    this.#fail(request, await refusal(reply, url, text));
    return undefined;
  }

  /** Writes the messages of a 2xx reply to stdout, and answers `request` if the reply did not. */
  async #deliver(
    reply: RemoteReply,
    request: RequestRef | undefined,
    onMessage?: (data: string) => void,
  ): Promise<void> {
    if (reply.body === undefined || reply.status === 202 || reply.status === 204) {
      discardReply(reply);
      return;
    }
    if (!isEventStream(reply)) {
      const text = await readReplyText(reply, MAX_JSON_ANSWER_BYTES);
      if (text.trim() === '') return;
      onMessage?.(text);
      this.#writeData(text);
      if (request !== undefined && answeredIds(text).includes(request.id)) this.#settle(request.id);
      else if (request !== undefined) this.#unanswered(request, false);
      return;
    }
    let last: string | undefined;
    let lastEventId: string | undefined;
    const parser = new SseParser((event) => {
      if (event.id !== undefined) lastEventId = event.id;
      if (event.event !== 'message') return;
      onMessage?.(event.data);
      this.#writeData(event.data);
      last = event.data;
    });
    let current: RemoteReply | undefined = reply;
    for (let resumes = 0; current !== undefined; resumes++) {
      try {
        for await (const chunk of current.body ?? []) parser.feed(chunk as Buffer);
      } catch {
        // Broken off: whatever was owed is handled below.
      }
      current = undefined;
      parser.end();
      if (request === undefined || !this.#pending.has(request.id)) return;
      if (last !== undefined && answeredIds(last).includes(request.id)) {
        this.#settle(request.id);
        return;
      }
      const session = this.#session;
      if (
        lastEventId === undefined ||
        resumes >= MAX_RESUMES ||
        session?.id === undefined ||
        this.#closing
      )
        break;
      // The server gave event ids: ask for the rest of the stream.
      current = await this.#resume(session, lastEventId);
    }
    if (request !== undefined && this.#pending.has(request.id)) this.#unanswered(request, true);
  }

  /** `GET` with `Last-Event-ID`: the rest of a resumable stream, or undefined. */
  async #resume(session: RemoteSession, lastEventId: string): Promise<RemoteReply | undefined> {
    try {
      const reply = await this.#c.endpoint.send(
        'GET',
        eventStreamHeaders(session, lastEventId),
        undefined,
        this.#abort.signal,
      );
      if (reply.status === 200 && isEventStream(reply)) return reply;
      discardReply(reply);
    } catch {
      // Not resumable after all: the request gets its error.
    }
    return undefined;
  }

  #unanswered(request: RequestRef, stream: boolean): void {
    if (this.#closing) return;
    this.#fail(request, {
      reason: 'stream_ended',
      message: stream
        ? `The remote MCP server at ${this.#c.endpoint.url.origin} closed the response stream without answering ${request.method} (it may have restarted); retry it if that is safe.`
        : `The remote MCP server at ${this.#c.endpoint.url.origin} answered ${request.method} without its result.`,
    });
  }

  // ---- the standing GET stream (messages that answer no request) ------------------------------

  /** Opens the standing stream of `session` (the previous one stops); resolves once it answered. */
  #openStanding(session: RemoteSession): Promise<void> {
    this.#stopStanding?.();
    if (session.id === undefined) return Promise.resolve();
    const stream = openStandingStream({
      endpoint: this.#c.endpoint,
      session,
      onMessage: (data) => {
        if (this.#session === session) this.#writeData(data);
      },
      signal: this.#abort.signal,
      logger: this.#c.log,
    });
    this.#stopStanding = stream.stop;
    return stream.opened;
  }

  // ---- remote -> client --------------------------------------------------------------------

  /** Writes one JSON-RPC message (event data, or a JSON body) as one line. */
  #writeData(data: string): void {
    if (this.#closing) return;
    let line = data;
    if (line.includes('\n') || line.includes('\r')) {
      // Pretty-printed JSON would break the line framing: the same message, on one line.
      const parsed = parseJson(line);
      if (typeof parsed === 'symbol') {
        this.#c.log.debug(`dropped a message of the remote that is not JSON: ${quote(data)}`);
        return;
      }
      line = JSON.stringify(parsed);
    }
    this.#c.stdout.write(`${line}\n`);
  }

  #write(message: unknown): void {
    if (this.#closing) return;
    this.#c.stdout.write(`${JSON.stringify(message)}\n`);
  }

  /** Answers `request` (when there is one) with the proxy's error, and says so on stderr. */
  #fail(request: RequestRef | undefined, failure: RemoteFailure): void {
    const log = this.#c.log;
    log.error(`${request?.method ?? 'a message'}: ${failure.message}`);
    if (failure.hint) log.info(failure.hint);
    if (request === undefined || !this.#pending.has(request.id)) return;
    this.#settle(request.id);
    this.#write(failureAnswer(request.id, failure));
  }

  #settle(id: JsonRpcId): void {
    this.#pending.delete(id);
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (!this.#closing && (this.#pending.size > 0 || this.#inFlight > 0)) return;
    for (const done of this.#idleWaiters.splice(0)) done();
  }
}
