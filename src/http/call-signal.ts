/**
 * Internal: a per-call abort signal that follows a caller's long-lived one.
 *
 * The MCP SDK's transports hand the same `AbortSignal` (one per session) to every request.
 * Node's fetch adds an abort listener to the signal of every request it is given and removes
 * it only when that request is garbage-collected, so a signal that lives for a session
 * collects one listener per call between collections (thousands under load, with
 * `MaxListenersExceededWarning`). Here each call gets a signal of its own instead: one
 * listener on the caller's signal forwards an abort to it, and that listener is removed as
 * soon as the call is over (the fetch failed, the response has no body, or its body was read
 * to the end, failed or was cancelled). A response that the caller drops unread releases its
 * listener when it is collected, as before.
 */

/** A call's own signal, linked to the caller's. */
export interface CallSignal {
  /** The signal to hand to the fetch below, for every request this call makes. */
  readonly signal: AbortSignal;
  /** Unlinks from the caller's signal; idempotent. */
  release(): void;
  /**
   * The response to return to the caller: `response` itself when it has no body (released
   * now), else a response whose body releases the link when it ends.
   */
  settle(response: Response): Response;
}

interface Link {
  readonly caller: AbortSignal;
  readonly forward: () => void;
}

/** Removes a link whose call was dropped unread, when its controller is collected. */
const unreadCalls = new FinalizationRegistry<Link>((link) => {
  link.caller.removeEventListener('abort', link.forward);
});

/**
 * A per-call signal following `caller`, or `undefined` when there is nothing to link
 * (no signal, or one already aborted: the fetch below rejects at once and adds nothing).
 */
export function linkCallSignal(caller: AbortSignal | null | undefined): CallSignal | undefined {
  if (!caller || caller.aborted) return undefined;
  const controller = new AbortController();
  // The forwarder holds the controller weakly: a call dropped unread must not be kept alive
  // by the caller's signal (see unreadCalls).
  const ref = new WeakRef(controller);
  const forward = () => ref.deref()?.abort(caller.reason);
  caller.addEventListener('abort', forward, {once: true});
  const link: Link = {caller, forward};
  unreadCalls.register(controller, link, link);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    caller.removeEventListener('abort', forward);
    unreadCalls.unregister(link);
  };
  return {
    signal: controller.signal,
    release,
    settle(response) {
      const body = response.body;
      if (body === null || caller.aborted) {
        release();
        return response;
      }
      return releasingOnEnd(response, body, controller, release);
    },
  };
}

/**
 * `response` with a body that calls `release` once it is read to the end, fails or is
 * cancelled. The new body holds `controller`, so the call stays abortable while it is read.
 */
function releasingOnEnd(
  response: Response,
  body: ReadableStream<Uint8Array>,
  controller: AbortController,
  release: () => void,
): Response {
  const reader = body.getReader();
  const source = {
    controller,
    async pull(stream: ReadableStreamDefaultController<Uint8Array>) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        release();
        throw error;
      }
      if (chunk.done) {
        release();
        stream.close();
      } else {
        stream.enqueue(chunk.value);
      }
    },
    cancel(reason: unknown) {
      release();
      return reader.cancel(reason);
    },
  };
  const wrapped = new Response(new ReadableStream(source, {highWaterMark: 0}), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // What a Response built here cannot take in its init: where it came from.
  Object.defineProperties(wrapped, {
    url: {value: response.url},
    redirected: {value: response.redirected},
  });
  return wrapped;
}
