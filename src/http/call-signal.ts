/**
 * Internal: a per-call abort signal that follows a caller's long-lived one.
 *
 * The MCP SDK's transports hand the same `AbortSignal` (one per session) to every request.
 * Node's fetch adds an abort listener to the signal of every request it is given and removes
 * it only when that request is garbage-collected, so a signal that lives for a session
 * collects one listener per call between collections (thousands under load, with
 * `MaxListenersExceededWarning`).
 *
 * Here each call gets a signal of its own instead, and a caller's signal gets one listener in
 * all, a relay's, however many calls it serves: when it aborts, the relay aborts every call
 * still alive. The relay holds its calls weakly; a call lives as long as its response body
 * (the body holds it), so aborting still ends a body being read, and a finished call is
 * collected like any object. The relay forgets collected calls as it grows (amortized), so it
 * is bounded by the calls alive, not by the calls made.
 */

/** A response body keeps the controller of its call alive through this property. */
const CALL = Symbol('mcp-google-auth.call');

/** Fewest calls a relay holds before it sweeps out collected ones. */
const MIN_SWEEP = 64;

class Relay {
  readonly #calls = new Set<WeakRef<AbortController>>();
  #sweepAt = MIN_SWEEP;

  constructor(caller: AbortSignal) {
    caller.addEventListener(
      'abort',
      () => {
        for (const ref of this.#calls) ref.deref()?.abort(caller.reason);
        this.#calls.clear();
      },
      {once: true},
    );
  }

  add(controller: AbortController): void {
    this.#calls.add(new WeakRef(controller));
    if (this.#calls.size < this.#sweepAt) return;
    for (const ref of this.#calls) if (ref.deref() === undefined) this.#calls.delete(ref);
    this.#sweepAt = Math.max(MIN_SWEEP, this.#calls.size * 2);
  }
}

const relays = new WeakMap<AbortSignal, Relay>();

/** A call's own signal, following the caller's. */
export interface CallSignal {
  /** The signal to hand to the fetch below, for every request this call makes. */
  readonly signal: AbortSignal;
  /** Ties the call to `response`'s body, so that it can still be aborted while the body is read. */
  settle(response: Response): Response;
}

/**
 * A per-call signal following `caller`, or `undefined` when there is nothing to follow (no
 * signal, or one already aborted: the fetch below then rejects at once and keeps nothing).
 */
export function linkCallSignal(caller: AbortSignal | null | undefined): CallSignal | undefined {
  if (!caller || caller.aborted) return undefined;
  let relay = relays.get(caller);
  if (!relay) {
    relay = new Relay(caller);
    relays.set(caller, relay);
  }
  const controller = new AbortController();
  relay.add(controller);
  return {
    signal: controller.signal,
    settle(response) {
      const body = response.body;
      if (body !== null) (body as unknown as Record<symbol, unknown>)[CALL] = controller;
      return response;
    },
  };
}
