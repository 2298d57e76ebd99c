import {gaxios} from 'google-auth-library';
import {createGoogleFetch, resolveEmulatorHost, type FetchLike} from '../google-routing.js';
import {currentAttemptSignal} from '../attempt-signal.js';
import {MalformedAnswerError} from '../transient-failure.js';
import {redactHttpError} from './redact.js';

/** How sources reach Google: the emulator host, the fetch, the environment. */
export interface GoogleTransportOptions {
  /** `host:port` of an emulator for Google's auth hosts. Default is `GOOGLE_AUTH_EMULATOR_HOST` from `env`. */
  emulatorHost?: string;
  /** The fetch that carries requests. Default is the global `fetch`. */
  fetch?: FetchLike;
  /** The environment to read. Default is `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * A google-auth-library client never serves a token from its own memory when its
 * eager-refresh threshold is this large (about 31 years): every request for a token is a
 * fresh one, and the {@link TokenCache} stays the only cache.
 */
export const NO_CLIENT_CACHE_MS = 1e12;

/**
 * google-auth-library and gaxios retry nothing: the {@link TokenCache}'s retry policy is the
 * only one, so attempts do not multiply (see retry-policy.ts).
 */
const NO_RETRY: gaxios.RetryConfig = {retry: 0, noResponseRetries: 0};

/**
 * Longest wait for one answer from Google's auth endpoints, in milliseconds: a backstop for
 * requests made outside a token fetch. Inside one, the attempt's own timeout aborts the
 * request first (see attempt-signal.ts).
 */
const TIMEOUT_MS = 30_000;

/** A gaxios transporter bound to one routing, plus what it was built from. */
export interface GoogleTransport {
  /** The transporter for google-auth-library clients (`clientOptions.transporter`). */
  readonly transporter: gaxios.Gaxios;
  /** The emulator host in force, if any. */
  readonly emulatorHost: string | undefined;
  /** The environment that was read. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Fresh `clientOptions` for a google-auth-library client: this transporter and no
   * client-side token reuse. Fresh per client because google-auth-library writes into it.
   */
  clientOptions(): {transporter: gaxios.Gaxios; eagerRefreshThresholdMillis: number};
}

/**
 * Builds the transporter every Google request of a source goes through: its fetch is
 * {@link createGoogleFetch} (Google's auth hosts go to the emulator when one is configured),
 * failed requests lose their bodies and credentials headers before anyone sees them, nothing
 * is retried here (the {@link TokenCache} retries with backoff on its own), and a request
 * made by a token-fetch attempt is aborted when that attempt times out.
 * Throws a TypeError when the emulator host is not `host:port`.
 */
export function createGoogleTransport(options: GoogleTransportOptions = {}): GoogleTransport {
  const env = options.env ?? process.env;
  const emulatorHost = resolveEmulatorHost(options.emulatorHost, env);
  // An empty host tells createGoogleFetch not to consult process.env on its own.
  const fetchImplementation = abortWithAttempt(
    createGoogleFetch({
      emulatorHost: emulatorHost ?? '',
      fetch: options.fetch,
    }),
  );
  const transporter = new gaxios.Gaxios({
    fetchImplementation: fetchImplementation as typeof fetch,
    errorRedactor: redactHttpError,
    retryConfig: NO_RETRY,
    timeout: TIMEOUT_MS,
  });
  return {
    transporter,
    emulatorHost,
    env,
    clientOptions: () => ({transporter, eagerRefreshThresholdMillis: NO_CLIENT_CACHE_MS}),
  };
}

/**
 * `fetch` whose requests also end when the token-fetch attempt they belong to times out, and
 * whose successful JSON answers are checked to parse: a truncated or garbled body becomes a
 * {@link MalformedAnswerError} here (retried by the token cache), instead of whatever the
 * client underneath makes of a string where it expected an object.
 */
function abortWithAttempt(fetch: FetchLike): FetchLike {
  return async (input, init) => {
    const attempt = currentAttemptSignal();
    const own = init?.signal;
    const signal = attempt && own ? AbortSignal.any([own, attempt]) : (attempt ?? own);
    const response = await fetch(input, signal ? {...init, signal} : init);
    if (!response.ok || !/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
      return response;
    }
    const text = await response.text();
    try {
      JSON.parse(text);
    } catch {
      throw new MalformedAnswerError(
        `the answer (HTTP ${response.status}, ${response.headers.get('content-type')}) is not valid JSON`,
      );
    }
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
