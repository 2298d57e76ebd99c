/**
 * Internal: one MCP client session shared by every tool and call of a toolset. It connects
 * lazily and once for any number of concurrent callers, and when the server has forgotten
 * the session (HTTP 404 on a request that named it, as after a container restart) it opens
 * a new one and retries the operation once.
 */
import type {Client} from '@modelcontextprotocol/sdk/client/index.js';
import type {Transport} from '@modelcontextprotocol/sdk/shared/transport.js';

/** A connected client and its transport. */
export interface LiveSession {
  readonly client: Client;
  readonly transport: Transport;
  /** Set when the session must not be used again. */
  closed: boolean;
  /** Set when the server forgot the session (operations that failed on it may run again). */
  forgotten?: boolean;
}

/** Opens a new connected session; throws when connecting fails. */
export type SessionOpener = () => Promise<LiveSession>;

/** Internal: the single shared session of a toolset. */
export class McpSession {
  readonly #open: SessionOpener;
  #live: LiveSession | undefined;
  #connecting: Promise<LiveSession> | undefined;

  constructor(open: SessionOpener) {
    this.#open = open;
  }

  /** Sessions opened so far (for tests and stats). */
  opened = 0;

  /** Runs `operation` on the shared session, reconnecting once if the server forgot it. */
  async use<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    const live = this.#live !== undefined && !this.#live.closed ? this.#live : await this.connect();
    try {
      return await operation(live.client);
    } catch (error) {
      if (!isForgottenSession(error, live)) throw error;
      this.#discard(live);
      const fresh = await this.connect();
      return operation(fresh.client);
    }
  }

  /** The connected session, connecting once for all concurrent callers. */
  connect(): Promise<LiveSession> {
    const live = this.#live;
    if (live !== undefined && !live.closed) return Promise.resolve(live);
    if (this.#connecting) return this.#connecting;
    const connecting = this.#open().then(
      (session) => {
        this.opened++;
        this.#live = session;
        this.#connecting = undefined;
        return session;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    this.#connecting = connecting;
    return connecting;
  }

  /** The session if one is open or opening, without starting one. */
  async current(): Promise<LiveSession | undefined> {
    if (this.#connecting) {
      try {
        await this.#connecting;
      } catch {
        return undefined;
      }
    }
    return this.#live !== undefined && !this.#live.closed ? this.#live : undefined;
  }

  /** Forgets the current session (the next call connects again) and returns it. */
  detach(): LiveSession | undefined {
    const live = this.#live;
    this.#live = undefined;
    if (live) live.closed = true;
    return live;
  }

  #discard(live: LiveSession): void {
    if (this.#live === live) this.#live = undefined;
    live.forgotten = true;
    if (live.closed) return;
    live.closed = true;
    live.client.close().catch(() => {
      // The server already forgot this session; closing only releases local resources.
    });
  }
}

/** Whether `error` says the server no longer knows the session `live` was using. */
function isForgottenSession(error: unknown, live: LiveSession): boolean {
  if (live.forgotten) return true;
  // Streamable HTTP names its session in a header; a server without sessions has nothing to
  // forget. The SSE transport names it in the endpoint URL the server gave, so a 404 there
  // can only mean the session is gone.
  const transport = live.transport as {sessionId?: string};
  if ('sessionId' in transport && transport.sessionId === undefined) return false;
  return httpStatusOf(error) === 404;
}

/**
 * The HTTP status an MCP SDK transport error carries: `StreamableHTTPError.code`,
 * `SseError.code`, or `(HTTP nnn)` in the SSE transport's message.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as {code?: unknown}).code;
  if (
    // By name, not `instanceof`: the SDK is loaded only with the first session.
    (error.constructor.name === 'StreamableHTTPError' ||
      error.name === 'SseError' ||
      error.constructor.name === 'SseError') &&
    typeof code === 'number' &&
    code >= 100 &&
    code <= 599
  ) {
    return code;
  }
  const status = (error as {status?: unknown}).status;
  if (typeof status === 'number') return status;
  const match = /\(HTTP (\d{3})\)/.exec(error.message);
  return match?.[1] ? Number(match[1]) : undefined;
}
