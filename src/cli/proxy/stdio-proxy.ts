import type {Readable, Writable} from 'node:stream';
import {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js';
import type {FetchLike} from '../../tokens/google-routing.js';
import {recordProxySession} from '../../telemetry/proxy-telemetry.js';
import {ForwardingSession} from './forwarding-session.js';
import type {ProxyLogger} from './proxy-logger.js';

/** Options of {@link startStdioProxy}. */
export interface StdioProxyOptions {
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /** The fetch that reaches the remote, normally `googleAuthFetch` (a fresh token per request). */
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
  /** Passed to the {@link ForwardingSession}: replayed `initialize` timeout, in milliseconds. Default is 30000. */
  reinitializeTimeoutMs?: number;
}

/** A running stdio proxy (see {@link startStdioProxy}). */
export interface StdioProxy {
  /** Resolves once the proxy has closed: stdin ended (and pending answers were delivered), or {@link close} was called. */
  readonly closed: Promise<void>;
  /** Remote sessions opened so far (more than 1 only after a lost session was re-initialized). */
  readonly remoteSessions: number;
  /** Ends the remote session (DELETE, bounded wait) and stops reading stdin. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves MCP on stdio and forwards every message to a remote Streamable HTTP MCP server (see
 * {@link ForwardingSession} for what passes and how a lost session is recovered). Newline-
 * delimited JSON-RPC on `stdin`/`stdout`; nothing but MCP messages is written to `stdout`.
 * When `stdin` ends, requests still pending get up to `drainTimeoutMs` to be answered, then
 * the remote session is ended with a DELETE.
 *
 * @example
 * const proxy = await startStdioProxy({
 *   remoteUrl: 'https://svc-abc.a.run.app/mcp',
 *   fetch: googleAuthFetch({authCredential, targetUrl: 'https://svc-abc.a.run.app/mcp'}),
 * });
 * await proxy.closed;
 */
export async function startStdioProxy(options: StdioProxyOptions): Promise<StdioProxy> {
  if (!options || typeof options !== 'object') {
    throw new TypeError('startStdioProxy options must be an object with remoteUrl and fetch');
  }
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
  if (!Number.isFinite(drainTimeoutMs) || drainTimeoutMs < 0) {
    throw new TypeError('options.drainTimeoutMs must be a number of milliseconds >= 0');
  }
  const session = new ForwardingSession({
    local: new StdioServerTransport(stdin, stdout),
    remoteUrl: options.remoteUrl,
    fetch: options.fetch,
    ...(options.logger ? {logger: options.logger} : {}),
    ...(options.reinitializeTimeoutMs !== undefined
      ? {reinitializeTimeoutMs: options.reinitializeTimeoutMs}
      : {}),
  });

  const onEnd = (): void => {
    void session.drainAndClose(drainTimeoutMs);
  };
  const onOutputError = (error: Error): void => {
    // The client went away (EPIPE): nobody reads the answers any more.
    options.logger?.debug(`stdout: ${error.message}`);
    void session.close();
  };
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  stdout.on('error', onOutputError);
  void session.closed.then(() => {
    stdin.off('end', onEnd);
    stdin.off('close', onEnd);
    stdout.off('error', onOutputError);
  });

  await session.start();
  recordProxySession('stdio', 1);
  void session.closed.then(() => recordProxySession('stdio', -1));
  return {
    closed: session.closed,
    get remoteSessions() {
      return session.remoteSessions;
    },
    close: () => session.close(),
  };
}
