import type {Readable, Writable} from 'node:stream';
import type {FetchLike} from '../../tokens/google-routing.js';
import {checkMs} from './check-options.js';
import type {ProxyLogger} from './proxy-logger.js';
import {silentLogger} from './proxy-logger.js';
import {recordProxySession} from '../../telemetry/proxy-telemetry.js';
import {RemoteEndpoint} from './remote-endpoint.js';
import {StdioForwarder} from './stdio-forwarder.js';

/** Options of {@link startStdioProxy}. Validated once, when the proxy starts. */
export interface StdioProxyOptions {
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /** The fetch that reaches the remote, normally `googleAuthFetch` over `nodeHttpFetch` (a fresh token per request). */
  fetch: FetchLike;
  /** Where the local client's messages come from. Default is `process.stdin`. */
  stdin?: Readable;
  /** Where the answers go: the MCP channel, nothing else is ever written to it. Default is `process.stdout`. */
  stdout?: Writable;
  /** Diagnostics (stderr in the command). Default drops them. */
  logger?: ProxyLogger;
  /**
   * After stdin ends, how long to wait for answers to requests still pending before closing,
   * in milliseconds. Default is 5000 (5 seconds).
   */
  drainTimeoutMs?: number;
  /** How long a replayed `initialize` may take when the remote lost the session, in milliseconds. Default is 30000 (30 seconds). */
  reinitializeTimeoutMs?: number;
  /** How long ending the remote session (DELETE) may take, in milliseconds. Default is 3000 (3 seconds). */
  terminateTimeoutMs?: number;
  /** Longest line (one JSON-RPC message) read from stdin, in bytes. Default is 4194304 (4 MiB). */
  maxLineBytes?: number;
}

/** A running stdio proxy (see {@link startStdioProxy}). */
export interface StdioProxy {
  /** Resolves once the proxy has closed: stdin ended (and pending answers were delivered), or {@link close} was called. */
  readonly closed: Promise<void>;
  /** Remote sessions opened so far (more than 1 only after the remote lost one, or the client initialized again). */
  readonly remoteSessions: number;
  /** Ends the remote session (DELETE, bounded wait) and stops reading stdin. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves MCP on stdio and forwards every message to a remote Streamable HTTP MCP server:
 * one line in, one HTTP POST out, the line's bytes unchanged; every event the remote sends
 * back (on the POST's own stream, or on the standing GET stream the proxy keeps open for
 * messages that answer no request) becomes one line on stdout. Each line of the client is
 * parsed once, to check its shape (malformed input is answered with a JSON-RPC error:
 * -32700 or -32600, with the right id or null, and the proxy keeps serving) and to know
 * which requests wait for answers; responses are not parsed except the last event of each
 * request's stream, to tell whether it answered.
 *
 * When the remote loses the session (404), the client's own `initialize` and
 * `notifications/initialized` are replayed and the request sent once more; a request whose
 * stream ends without its answer gets a JSON-RPC error. When `stdin` ends, requests still
 * pending get up to `drainTimeoutMs` to be answered, then the remote session is ended with a
 * DELETE.
 *
 * @example
 * const proxy = await startStdioProxy({
 *   remoteUrl: 'https://svc-abc.a.run.app/mcp',
 *   fetch: googleAuthFetch({authCredential, targetUrl: 'https://svc-abc.a.run.app/mcp', fetch: nodeHttpFetch()}),
 * });
 * await proxy.closed;
 */
export async function startStdioProxy(options: StdioProxyOptions): Promise<StdioProxy> {
  if (!options || typeof options !== 'object') {
    throw new TypeError('startStdioProxy options must be an object with remoteUrl and fetch');
  }
  if (typeof options.fetch !== 'function') throw new TypeError('options.fetch must be a function');
  let url: URL | undefined;
  try {
    url = new URL(String(options.remoteUrl));
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(String(options.remoteUrl))}`,
    );
  }
  const maxLineBytes = options.maxLineBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(maxLineBytes) || maxLineBytes <= 0) {
    throw new TypeError('options.maxLineBytes must be a positive integer');
  }
  const forwarder = new StdioForwarder({
    endpoint: new RemoteEndpoint(url, options.fetch),
    stdin: options.stdin ?? process.stdin,
    stdout: options.stdout ?? process.stdout,
    log: options.logger ?? silentLogger,
    drainTimeoutMs: checkMs(options.drainTimeoutMs, 5_000, 'drainTimeoutMs'),
    reinitializeTimeoutMs: checkMs(options.reinitializeTimeoutMs, 30_000, 'reinitializeTimeoutMs'),
    terminateTimeoutMs: checkMs(options.terminateTimeoutMs, 3_000, 'terminateTimeoutMs'),
    maxLineBytes,
  });
  forwarder.start();
  recordProxySession('stdio', 1);
  void forwarder.closed.then(() => recordProxySession('stdio', -1));
  return {
    closed: forwarder.closed,
    get remoteSessions() {
      return forwarder.remoteSessions;
    },
    close: () => forwarder.close(),
  };
}
