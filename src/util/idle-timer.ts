/**
 * Timer functions idle timeouts are scheduled with (the HTTP proxy's sessions, the demo
 * MCP server's sessions). Internal; not exported from any entry. The default is the global
 * `setTimeout`/`clearTimeout`; tests pass a hand-driven clock instead of sleeping.
 */
export interface ProxyTimers {
  /** Schedules `callback` after `ms` milliseconds; returns a handle for {@link clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a handle returned by {@link setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/** The global timers (handles are unref'd by {@link IdleTimer}, so they never hold the process). */
export const defaultProxyTimers: ProxyTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Largest delay a Node.js timer takes, in milliseconds (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Checks an `idleTimeoutMs` option: milliseconds from 0 (never) to {@link MAX_TIMER_MS};
 * `fallback` when not given. Throws a TypeError naming `options.idleTimeoutMs`.
 */
export function checkIdleTimeoutMs(value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new TypeError(
      `options.idleTimeoutMs must be a number of milliseconds from 0 (never) to ${MAX_TIMER_MS}, got ${String(ms)}`,
    );
  }
  return ms;
}

/**
 * Calls `onIdle` once nothing has been active for `timeoutMs`. Activity is counted: each
 * {@link enter} (a local request or stream that opens) is matched by one {@link leave} (it
 * closed); the countdown runs only while the count is zero and restarts from the full
 * timeout at every `leave` that brings it to zero. Nothing is scheduled before the first
 * `leave`. A `timeoutMs` of 0 never fires.
 */
export class IdleTimer {
  readonly #timeoutMs: number;
  readonly #timers: ProxyTimers;
  readonly #onIdle: () => void;
  /** Global timers: the countdown is restarted with `refresh()`, not a new timer per request. */
  readonly #refreshable: boolean;
  #active = 0;
  #handle: unknown;
  #armed = false;
  #disposed = false;

  /**
   * @param timeoutMs - Idle time before `onIdle`, in milliseconds; 0 disables it.
   * @param onIdle - Called at most once, when the timeout elapses.
   * @param timers - Where to schedule. Default is {@link defaultProxyTimers}.
   */
  constructor(timeoutMs: number, onIdle: () => void, timers: ProxyTimers = defaultProxyTimers) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
    this.#timers = timers;
    this.#refreshable = timers === defaultProxyTimers;
  }

  /**
   * Something started (a request or a stream): the countdown stops until it ends. (With the
   * global timers a pending countdown is left to run out instead of cleared, and ignored if
   * something is still active then: cheaper than a new timer for every request.)
   */
  enter(): void {
    this.#active++;
    if (!this.#refreshable) this.#disarm();
  }

  /** Something that {@link enter} counted ended; with nothing else active the countdown restarts. */
  leave(): void {
    this.#active = Math.max(0, this.#active - 1);
    this.#arm();
  }

  /** Stops for good: no more countdowns, the pending one is cleared. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#disarm();
  }

  #arm(): void {
    if (this.#disposed || this.#timeoutMs === 0 || this.#active > 0) return;
    if (this.#armed && this.#refreshable) {
      (this.#handle as NodeJS.Timeout).refresh();
      return;
    }
    this.#disarm();
    this.#handle = this.#timers.setTimeout(() => {
      this.#armed = false;
      if (this.#disposed || this.#active > 0) return;
      this.#disposed = true;
      this.#onIdle();
    }, this.#timeoutMs);
    this.#armed = true;
    (this.#handle as {unref?: () => void} | undefined)?.unref?.();
  }

  #disarm(): void {
    if (!this.#armed) return;
    this.#timers.clearTimeout(this.#handle);
    this.#armed = false;
    this.#handle = undefined;
  }
}
