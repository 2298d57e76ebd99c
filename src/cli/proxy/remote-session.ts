import {explainAuthFailure} from '../../http/explain-auth-failure.js';
import {answeredIds, isInitializedNotification, negotiatedVersion} from './json-rpc.js';
import type {ProxyLogger} from './proxy-logger.js';
import {JSON_RPC_POST_HEADERS} from './remote-endpoint.js';
import type {RemoteEndpoint} from './remote-endpoint.js';
import {describeRemoteError, describeRemoteStatus, quote} from './remote-failure.js';
import type {RemoteFailure} from './remote-failure.js';
import {discardReply, isEventStream, readReplyText, replyHeader} from './remote-reply.js';
import type {RemoteReply} from './remote-reply.js';
import {SseParser} from './sse-parser.js';

/** Largest answer to a replayed `initialize` the proxy reads, in bytes (1 MiB). */
const MAX_REPLAY_ANSWER_BYTES = 1024 * 1024;

/** Options of {@link RemoteSession}. */
export interface RemoteSessionOptions {
  /** Where the session lives. */
  endpoint: RemoteEndpoint;
  /** The client's `initialize` message, byte for byte as it sent it (replayed as is). */
  initialize: Uint8Array;
  /** The session id the remote gave in its answer to that `initialize`; undefined for a stateless server. */
  id: string | undefined;
  /** The protocol version the remote negotiated, when known. */
  protocolVersion?: string | undefined;
  /** Where re-establishment is reported. */
  logger: ProxyLogger;
  /** How long a replayed `initialize` (and its `initialized`) may take, in milliseconds. */
  reinitializeTimeoutMs: number;
}

/**
 * One session with the remote MCP server on behalf of one local client: the remote's session
 * id, and what it takes to open it again. When the remote forgets the session (a restarted
 * container answers 404), {@link reestablish} replays the client's own `initialize` and
 * `notifications/initialized`, byte for byte, and keeps the new id; the caller then retries
 * its request once. Replays happen only when a client sends a request on the session, so a
 * session nobody uses any more is never opened again. Whatever the server held for the lost
 * session (subscriptions, log level, state) is gone.
 */
export class RemoteSession {
  /** The remote's session id (undefined for a stateless server). Never shown to the local client. */
  id: string | undefined;
  /** The protocol version the remote negotiated, when known (sent as `mcp-protocol-version` on replays). */
  protocolVersion: string | undefined;
  /** Remote sessions opened for this client so far (1, plus one per re-establishment). */
  opened = 1;

  readonly #endpoint: RemoteEndpoint;
  /** Own copy: a slice of node's shared buffer pool would keep 8 KiB alive per session. */
  readonly #initialize: Uint8Array;
  #initialized: Uint8Array | undefined;
  readonly #log: ProxyLogger;
  readonly #timeoutMs: number;
  #replay: Promise<RemoteFailure | undefined> | undefined;

  constructor(options: RemoteSessionOptions) {
    this.#endpoint = options.endpoint;
    this.#initialize = new Uint8Array(options.initialize);
    this.id = options.id;
    this.protocolVersion = options.protocolVersion;
    this.#log = options.logger;
    this.#timeoutMs = options.reinitializeTimeoutMs;
  }

  /** Whether the client's `notifications/initialized` has been seen. */
  get initializedSeen(): boolean {
    return this.#initialized !== undefined;
  }

  /**
   * Looks at a POST body of the client until its `notifications/initialized` went by, and
   * keeps that for replays. A substring test first: only a body that names the method is parsed.
   */
  noteClientMessage(body: Uint8Array): void {
    if (this.#initialized === undefined && isInitializedNotification(body)) {
      this.#initialized = new Uint8Array(body);
    }
  }

  /** Keeps the client's `notifications/initialized` (stdio, where messages are already parsed). */
  setInitialized(body: Uint8Array): void {
    this.#initialized ??= new Uint8Array(body);
  }

  /**
   * Opens the session again after the remote answered that it does not know `staleId`. Any
   * number of callers share one replay; a caller whose id was already replaced gets at once.
   * Resolves to `undefined` on success (use {@link id} from then on), or to what went wrong.
   */
  reestablish(staleId: string): Promise<RemoteFailure | undefined> {
    if (this.#replay) return this.#replay;
    if (this.id !== staleId) return Promise.resolve(undefined);
    const replay = this.#replayNow().finally(() => {
      if (this.#replay === replay) this.#replay = undefined;
    });
    this.#replay = replay;
    return replay;
  }

  /**
   * Ends the remote session with a DELETE, waiting at most `timeoutMs`; failures are only
   * logged (the remote forgets idle sessions on its own).
   */
  async end(timeoutMs: number): Promise<void> {
    const id = this.id;
    if (id === undefined) return;
    this.id = undefined;
    try {
      const reply = await this.#endpoint.send(
        'DELETE',
        this.#headers(id),
        undefined,
        AbortSignal.timeout(timeoutMs),
      );
      discardReply(reply);
      this.#log.debug(`remote session ${id.slice(0, 8)} ended (HTTP ${reply.status})`);
    } catch (error) {
      this.#log.debug(
        `could not end remote session ${id.slice(0, 8)}: ${quote(error instanceof Error ? error.message : String(error))}`,
      );
    }
  }

  #headers(id: string, version = this.protocolVersion): Record<string, string> {
    return {
      ...JSON_RPC_POST_HEADERS,
      'mcp-session-id': id,
      ...(version !== undefined ? {'mcp-protocol-version': version} : {}),
    };
  }

  async #replayNow(): Promise<RemoteFailure | undefined> {
    const url = this.#endpoint.url;
    this.#log.warn(
      `The remote MCP session at ${url.origin} was lost (the server no longer knows it); starting a new one with the client's own initialize.`,
    );
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const lost = (why: string, from?: RemoteFailure): RemoteFailure => ({
      reason: 'session_lost',
      message: `The remote MCP session at ${url.origin} was lost and a new one could not be started: ${why}`,
      ...(from?.httpStatus !== undefined ? {httpStatus: from.httpStatus} : {}),
      ...(from?.hint ? {hint: from.hint} : {}),
    });
    try {
      const reply = await this.#endpoint.send(
        'POST',
        {...JSON_RPC_POST_HEADERS},
        this.#initialize,
        signal,
      );
      if (reply.status < 200 || reply.status > 299) {
        const failure = await refusal(reply, url);
        return lost(failure.message, failure);
      }
      const id = replyHeader(reply, 'mcp-session-id');
      const answer = await firstAnswer(reply);
      if (answer === undefined) return lost('the server did not answer the replayed initialize.');
      const parsed = JSON.parse(answer) as {error?: {message?: unknown}};
      if (parsed.error !== undefined) {
        return lost(
          `the server refused the replayed initialize: ${quote(String(parsed.error.message ?? 'no message'))}`,
        );
      }
      const version = negotiatedVersion(answer);
      if (this.#initialized !== undefined && id !== undefined) {
        const done = await this.#endpoint.send(
          'POST',
          this.#headers(id, version),
          this.#initialized,
          signal,
        );
        discardReply(done);
        if (done.status < 200 || done.status > 299) {
          const failure = await refusal(done, url);
          return lost(
            `the replayed notifications/initialized was refused: ${failure.message}`,
            failure,
          );
        }
      }
      if (
        version !== undefined &&
        this.protocolVersion !== undefined &&
        version !== this.protocolVersion
      ) {
        this.#log.warn(
          `The new remote session speaks MCP ${version}, the client negotiated ${this.protocolVersion}; messages are passed on unchanged.`,
        );
      }
      this.id = id;
      this.protocolVersion = version ?? this.protocolVersion;
      this.opened++;
      this.#log.info(`Remote MCP session re-established at ${url.origin}.`);
      return undefined;
    } catch (error) {
      if (signal.aborted) {
        return lost(
          `the server did not answer the replayed initialize within ${this.#timeoutMs} ms.`,
        );
      }
      const failure = describeRemoteError(error, url);
      return lost(failure.message, failure);
    }
  }
}

/**
 * A refused reply as a {@link RemoteFailure}. Reads a little of its body (for an HTML title)
 * unless `text` holds what was already read of it.
 */
export async function refusal(reply: RemoteReply, url: URL, text?: string): Promise<RemoteFailure> {
  const contentType = replyHeader(reply, 'content-type');
  const authExplanation =
    reply.status === 401 || reply.status === 403 ? explainAuthFailure(reply.response) : undefined;
  const bodyExcerpt = text ?? (await readReplyText(reply, 4096));
  return describeRemoteStatus(
    {status: reply.status, authExplanation, contentType, bodyExcerpt},
    url,
  );
}

/** The data of the first JSON-RPC answer in a reply (an event stream or one JSON body). */
async function firstAnswer(reply: RemoteReply): Promise<string | undefined> {
  if (!isEventStream(reply)) {
    const text = await readReplyText(reply, MAX_REPLAY_ANSWER_BYTES);
    return answeredIds(text).length > 0 ? text : undefined;
  }
  const body = reply.body;
  if (body === undefined) return undefined;
  let found: string | undefined;
  const parser = new SseParser((event) => {
    if (found === undefined && event.event === 'message' && answeredIds(event.data).length > 0) {
      found = event.data;
    }
  });
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      parser.feed(chunk as Buffer);
      if (found !== undefined || size > MAX_REPLAY_ANSWER_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  return found;
}
