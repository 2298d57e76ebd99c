import {randomUUID} from 'node:crypto';
import {recordProxySession} from '../../telemetry/proxy-telemetry.js';
import {IdleTimer} from '../../util/idle-timer.js';
import type {ProxyTimers} from '../../util/idle-timer.js';
import type {RemoteSession} from './remote-session.js';

/** One local session of the HTTP proxy, paired with one remote session. */
export interface LocalSession {
  /** The id the local client sees: the proxy's own, random, unrelated to the remote's. */
  readonly id: string;
  /** The remote session it forwards to. */
  readonly remote: RemoteSession;
  /** Counts requests in flight (GET streams included); fires when the session has been idle too long. */
  readonly idle: IdleTimer;
  /** A GET stream of the remote answered once: a 404 to a GET then means the session was lost. */
  getWorked: boolean;
  /** Ended (by the client's DELETE, idleness or the proxy closing); unknown from then on. */
  closed: boolean;
}

/** Options of {@link HttpSessionTable}. */
export interface HttpSessionTableOptions {
  /** Most sessions open at once, those still starting included. */
  maxSessions: number;
  /** Idle time before a session is closed, in milliseconds (0 = never). */
  idleTimeoutMs: number;
  /** Timers for the idle countdowns. */
  timers?: ProxyTimers | undefined;
  /** Called when a session has been idle for `idleTimeoutMs` (it is already removed). */
  onIdle(session: LocalSession): void;
}

/**
 * The HTTP proxy's sessions, bounded: at most `maxSessions` open or starting. A session is
 * added only once the remote accepted its `initialize` (a refused one leaves nothing), and
 * removed when it ends; starting ones hold a reservation released in every outcome.
 */
export class HttpSessionTable {
  readonly #sessions = new Map<string, LocalSession>();
  readonly #options: HttpSessionTableOptions;
  #starting = 0;

  constructor(options: HttpSessionTableOptions) {
    this.#options = options;
  }

  /** Sessions open. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions whose `initialize` is still on its way to the remote. */
  get starting(): number {
    return this.#starting;
  }

  /** Takes a place for a starting session; false when the table is full. */
  reserve(): boolean {
    if (this.#sessions.size + this.#starting >= this.#options.maxSessions) return false;
    this.#starting++;
    return true;
  }

  /** Gives back a place taken with {@link reserve} (whether or not a session was added). */
  unreserve(): void {
    this.#starting = Math.max(0, this.#starting - 1);
  }

  /** Adds a session for `remote` (within a reservation); returns it with its new local id. */
  add(remote: RemoteSession): LocalSession {
    const session: LocalSession = {
      id: randomUUID(),
      remote,
      idle: new IdleTimer(
        this.#options.idleTimeoutMs,
        () => {
          if (this.delete(session)) this.#options.onIdle(session);
        },
        this.#options.timers,
      ),
      getWorked: false,
      closed: false,
    };
    this.#sessions.set(session.id, session);
    recordProxySession('http', 1);
    return session;
  }

  /** The open session with this local id. */
  get(id: string): LocalSession | undefined {
    return this.#sessions.get(id);
  }

  /** Removes a session (idempotent); true when it was open. */
  delete(session: LocalSession): boolean {
    session.closed = true;
    session.idle.dispose();
    const removed = this.#sessions.delete(session.id);
    if (removed) recordProxySession('http', -1);
    return removed;
  }

  /** Every open session. */
  all(): LocalSession[] {
    return [...this.#sessions.values()];
  }
}
