import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {RequestId} from '@modelcontextprotocol/sdk/types.js';
import {explainAuthFailure} from '../../http/explain-auth-failure.js';
import type {FetchLike} from '../../tokens/google-routing.js';

/** What a {@link RemoteConnection} reports to the proxy that owns it. */
export interface RemoteConnectionHooks {
  /**
   * A POST whose answer was an SSE stream ended (normally, by an error, or because the
   * connection was closed). `requestIds` are the JSON-RPC requests that POST carried; any
   * of them still unanswered will not be answered on that stream.
   */
  onStreamEnd(requestIds: readonly RequestId[]): void;
  /**
   * The server answered 404 to a GET (the standing event stream) that named our session id,
   * after that stream had worked before: the session is gone.
   */
  onSessionGone(): void;
}

/** Options of {@link RemoteConnection}. */
export interface RemoteConnectionOptions {
  /** The remote Streamable HTTP MCP endpoint. */
  url: URL;
  /** The fetch that reaches it (normally `googleAuthFetch`, which adds a fresh token per request). */
  fetch: FetchLike;
  /** Sequence number, for log lines (1 for the first session, 2 after one re-initialization, ...). */
  number: number;
  /** Where stream ends and lost sessions are reported. */
  hooks: RemoteConnectionHooks;
}

/**
 * One MCP session with the remote server: an MCP SDK `StreamableHTTPClientTransport` over a
 * fetch that watches what the SDK does not report (a response stream that ends without an
 * answer, a 404 for our session id on the GET stream, and the explanation of a 401/403).
 * The session id lives in the transport and is never shown to the local client.
 */
export class RemoteConnection {
  /** The SDK transport; messages are sent with `transport.send`. */
  readonly transport: StreamableHTTPClientTransport;
  /** Sequence number (see {@link RemoteConnectionOptions.number}). */
  readonly number: number;
  /** True once the proxy stopped using this connection (session lost, replaced or closed). */
  retired = false;
  readonly #authFailures = new Map<string, string>();
  #streamOpened = false;
  #standingStream: Promise<void> | undefined;
  #closed = false;

  constructor(options: RemoteConnectionOptions) {
    this.number = options.number;
    const base = options.fetch;
    const hooks = options.hooks;
    const tracked: FetchLike = async (input, init) => {
      if (this.#closed) {
        // The SDK may still retry its GET stream after close(); a retired session sends nothing.
        throw new DOMException('The remote session is closed.', 'AbortError');
      }
      const method = (init?.method ?? 'GET').toUpperCase();
      let settle: (() => void) | undefined;
      if (method === 'GET') {
        this.#standingStream = new Promise<void>((resolve) => {
          settle = resolve;
        });
      }
      let response: Response;
      try {
        response = await base(input, init);
      } finally {
        settle?.();
      }
      if (method === 'GET' && response.ok) this.#streamOpened = true;
      const body = typeof init?.body === 'string' ? init.body : undefined;
      if (response.status === 401 || response.status === 403) {
        const explanation = explainAuthFailure(response);
        if (explanation !== undefined && body !== undefined) {
          this.#rememberAuthFailure(body, explanation);
        }
      } else if (
        response.status === 404 &&
        method === 'GET' &&
        this.#streamOpened &&
        new Headers(init?.headers).has('mcp-session-id')
      ) {
        // Only after the GET stream once worked: a server that answers 404 to every GET
        // (instead of 405) must not cause a new session per attempt.
        hooks.onSessionGone();
      }
      if (method === 'POST' && response.ok && response.body && body !== undefined) {
        const contentType = response.headers.get('content-type') ?? '';
        if (/^\s*text\/event-stream\b/i.test(contentType)) {
          const ids = requestIdsIn(body);
          if (ids.length > 0) return watchEnd(response, () => hooks.onStreamEnd(ids));
        }
      }
      return response;
    };
    this.transport = new StreamableHTTPClientTransport(options.url, {
      fetch: tracked,
      reconnectionOptions: RECONNECTION,
    });
  }

  /** Closes the transport (aborting its streams); from then on this connection sends nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.transport.close();
  }

  /**
   * Resolves once the standing GET stream the SDK opens after `notifications/initialized` has
   * its answer (open, refused or failed), or at once when none was started; at most after
   * `timeoutMs`.
   */
  async standingStreamSettled(timeoutMs: number): Promise<void> {
    // The SDK starts the GET a few microtasks after the POST of `initialized` was answered.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const pending = this.#standingStream;
    if (pending === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      pending,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The remote session id, once the server gave one. Never shown to the local client. */
  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  /**
   * The explanation of the 401/403 that answered the POST of `body` (the JSON text the SDK
   * sent), removed once read.
   */
  takeAuthFailure(body: string): string | undefined {
    const explanation = this.#authFailures.get(body);
    this.#authFailures.delete(body);
    return explanation;
  }

  #rememberAuthFailure(key: string, explanation: string): void {
    // Bounded: explanations nobody asked for (notifications, a GET) must not pile up.
    if (this.#authFailures.size >= 64) this.#authFailures.clear();
    this.#authFailures.set(key, explanation);
  }
}

/**
 * How the SDK reopens a standing GET stream that ended (Cloud Run ends every request at the
 * service's request timeout, 5 minutes by default): 1 s, then growing by 1.5 up to 30 s, six
 * failures in a row before it gives up. A lost session is noticed on the first 404.
 */
const RECONNECTION = {
  initialReconnectionDelay: 1_000,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 6,
};

/** The ids of the JSON-RPC requests in a POST body (one message or a batch). */
function requestIdsIn(body: string): RequestId[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  const ids: RequestId[] = [];
  for (const message of messages) {
    if (message === null || typeof message !== 'object') continue;
    const {id, method} = message as {id?: unknown; method?: unknown};
    if (typeof method === 'string' && (typeof id === 'string' || typeof id === 'number')) {
      ids.push(id);
    }
  }
  return ids;
}

/** The same response, with `onEnd` called once when its body ends, fails or is cancelled. */
function watchEnd(response: Response, onEnd: () => void): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          controller.close();
          end();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        controller.error(error);
        end();
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason).catch(() => undefined);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
