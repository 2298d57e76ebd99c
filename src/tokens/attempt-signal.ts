/**
 * Internal: the abort signal of the token-fetch attempt in progress, carried through
 * google-auth-library down to the fetch that reaches Google. When an attempt times out, the
 * request it made is aborted, wherever the library underneath took it, instead of running
 * on in the background until the transport's own timeout.
 */
import {AsyncLocalStorage} from 'node:async_hooks';

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the current attempt's signal. */
export function withAttemptSignal<T>(signal: AbortSignal, fn: () => T): T {
  return current.run(signal, fn);
}

/** The signal of the attempt this code runs in, if any. */
export function currentAttemptSignal(): AbortSignal | undefined {
  return current.getStore();
}
