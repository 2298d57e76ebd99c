import {gaxios} from 'google-auth-library';
import {createGoogleFetch, resolveEmulatorHost, type FetchLike} from '../google-routing.js';
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

/** Requests to Google's auth endpoints are retried once on 429/5xx or a lost connection. */
const RETRY: gaxios.RetryConfig = {
  retry: 1,
  noResponseRetries: 1,
  retryDelay: 100,
  statusCodesToRetry: [
    [429, 429],
    [500, 599],
  ],
};

/** Longest wait for one answer from Google's auth endpoints, in milliseconds. */
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
 * failed requests lose their bodies and credentials headers before anyone sees them, and
 * retries are few and short (the {@link TokenCache} retries with backoff on its own).
 * Throws a TypeError when the emulator host is not `host:port`.
 */
export function createGoogleTransport(options: GoogleTransportOptions = {}): GoogleTransport {
  const env = options.env ?? process.env;
  const emulatorHost = resolveEmulatorHost(options.emulatorHost, env);
  // An empty host tells createGoogleFetch not to consult process.env on its own.
  const fetchImplementation = createGoogleFetch({
    emulatorHost: emulatorHost ?? '',
    fetch: options.fetch,
  });
  const transporter = new gaxios.Gaxios({
    fetchImplementation: fetchImplementation as typeof fetch,
    errorRedactor: redactHttpError,
    retryConfig: RETRY,
    timeout: TIMEOUT_MS,
  });
  return {
    transporter,
    emulatorHost,
    env,
    clientOptions: () => ({transporter, eagerRefreshThresholdMillis: NO_CLIENT_CACHE_MS}),
  };
}
