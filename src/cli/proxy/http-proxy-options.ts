import type {FetchLike} from '../../tokens/google-routing.js';
import {checkIdleTimeoutMs} from '../../util/idle-timer.js';
import type {ProxyTimers} from '../../util/idle-timer.js';
import {checkMs} from './check-options.js';
import {DEFAULT_PROXY_HOST, isLoopbackHost} from './loopback.js';
import type {ProxyLogger} from './proxy-logger.js';
import {silentLogger} from './proxy-logger.js';
import {normalizeHost} from './request-guard.js';

/** Options of `startHttpProxy`. Validated once, when the proxy starts. */
export interface HttpProxyOptions {
  /** The remote Streamable HTTP MCP endpoint, e.g. `https://svc-abc.a.run.app/mcp`. */
  remoteUrl: string | URL;
  /**
   * The fetch that reaches the remote, normally `googleAuthFetch` over `nodeHttpFetch` (a
   * fresh token per request, bodies taken as bytes). Any fetch works; others are adapted.
   */
  fetch: FetchLike;
  /** TCP port to listen on, 0 to 65535. Default is 0 (any free port; read it from `url`). */
  port?: number;
  /**
   * Address to listen on. Default is `127.0.0.1`. Anything that is not a loopback address is
   * refused unless `allowNonLoopback` is true: whoever can reach the proxy acts with its
   * Google identity.
   */
  host?: string;
  /** Allow a `host` beyond loopback (the command's explicit `--host`); a warning is logged. Default is false. */
  allowNonLoopback?: boolean;
  /**
   * More names a request's `Host` (and a browser's `Origin`) may carry, besides loopback
   * names and the bound address (`--allowed-host`, e.g. the machine's name on the LAN).
   * Host names or addresses, without port. Default is none.
   */
  allowedHosts?: readonly string[];
  /**
   * A shared secret every request must carry as `Authorization: Bearer <token>`
   * (`--require-token`), for machines with several users. At least 16 characters. Default
   * is none.
   */
  requireToken?: string;
  /**
   * Most sessions open at once (those still starting included); a new one past it gets 503
   * with `Retry-After`. From 1 to 100000. Default is 100.
   */
  maxSessions?: number;
  /** Diagnostics (stderr in the command). Default drops them. */
  logger?: ProxyLogger;
  /** Largest request body, in bytes (413 past it). Default is 4194304 (4 MiB). */
  maxBodyBytes?: number;
  /**
   * Closes a local session (and ends its remote session with a DELETE, as the client's own
   * DELETE would) once it has been idle this long, in milliseconds: no request of the local
   * client in flight and no open GET stream. A client that comes back with the old session id
   * gets 404 and re-initializes. 0 never closes an idle session. At most 2147483647 (about 24.8
   * days). Default is 1800000 (30 minutes).
   */
  idleTimeoutMs?: number;
  /** How long a replayed `initialize` may take when the remote lost a session, in milliseconds. Default is 30000 (30 seconds). */
  reinitializeTimeoutMs?: number;
  /** How long ending a remote session (DELETE) may take, in milliseconds. Default is 3000 (3 seconds). */
  terminateTimeoutMs?: number;
  /** Timers for {@link idleTimeoutMs}, for tests that drive time by hand. Default is the global ones. */
  timers?: ProxyTimers;
}

/** Default {@link HttpProxyOptions.idleTimeoutMs}: 30 minutes, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** Default {@link HttpProxyOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 100;

/** Largest {@link HttpProxyOptions.maxSessions}. */
export const MAX_MAX_SESSIONS = 100_000;

/** Shortest {@link HttpProxyOptions.requireToken}, in characters. */
export const MIN_PROXY_TOKEN_LENGTH = 16;

/** The options of {@link HttpProxyOptions}, checked, with their defaults. */
export interface HttpProxyConfig {
  log: ProxyLogger;
  remote: URL;
  port: number;
  host: string;
  loopback: boolean;
  allowedHosts: string[];
  maxSessions: number;
  maxBodyBytes: number;
  idleTimeoutMs: number;
  reinitializeTimeoutMs: number;
  terminateTimeoutMs: number;
}

/**
 * Checks the options once, when the proxy starts; throws a TypeError naming the option.
 */
export function checkHttpProxyOptions(options: HttpProxyOptions): HttpProxyConfig {
  if (!options || typeof options !== 'object') {
    throw new TypeError('startHttpProxy options must be an object with remoteUrl and fetch');
  }
  if (typeof options.fetch !== 'function') throw new TypeError('options.fetch must be a function');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError('options.port must be an integer from 0 to 65535');
  }
  const host = options.host ?? DEFAULT_PROXY_HOST;
  if (typeof host !== 'string' || host.trim() === '') {
    throw new TypeError('options.host must be a non-empty address');
  }
  const loopback = isLoopbackHost(host);
  if (!loopback && options.allowNonLoopback !== true) {
    throw new TypeError(
      `options.host ${JSON.stringify(host)} is not a loopback address; set allowNonLoopback: true to listen beyond this machine`,
    );
  }
  const allowedHosts: string[] = [];
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) {
      throw new TypeError('options.allowedHosts must be an array of host names or addresses');
    }
    for (const value of options.allowedHosts) {
      if (typeof value !== 'string') {
        throw new TypeError('options.allowedHosts must contain only host names or addresses');
      }
      try {
        allowedHosts.push(normalizeHost(value));
      } catch {
        throw new TypeError(
          `options.allowedHosts contains ${JSON.stringify(value)}, which is not a host name or address`,
        );
      }
    }
  }
  if (
    options.requireToken !== undefined &&
    (typeof options.requireToken !== 'string' ||
      options.requireToken.length < MIN_PROXY_TOKEN_LENGTH ||
      /\s/.test(options.requireToken))
  ) {
    throw new TypeError(
      `options.requireToken must be a string of at least ${MIN_PROXY_TOKEN_LENGTH} characters without spaces`,
    );
  }
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > MAX_MAX_SESSIONS) {
    throw new TypeError(
      `options.maxSessions must be an integer from 1 to ${MAX_MAX_SESSIONS}, got ${String(maxSessions)}`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('options.maxBodyBytes must be a positive integer');
  }
  const idleTimeoutMs = checkIdleTimeoutMs(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
  const reinitializeTimeoutMs = checkMs(
    options.reinitializeTimeoutMs,
    30_000,
    'reinitializeTimeoutMs',
  );
  const terminateTimeoutMs = checkMs(options.terminateTimeoutMs, 3_000, 'terminateTimeoutMs');
  let remote: URL | undefined;
  try {
    remote = new URL(String(options.remoteUrl));
  } catch {
    remote = undefined;
  }
  if (remote?.protocol !== 'http:' && remote?.protocol !== 'https:') {
    throw new TypeError(
      `options.remoteUrl must be an http(s) URL, got ${JSON.stringify(String(options.remoteUrl))}`,
    );
  }
  return {
    log: options.logger ?? silentLogger,
    remote,
    port,
    host,
    loopback,
    allowedHosts,
    maxSessions,
    maxBodyBytes,
    idleTimeoutMs,
    reinitializeTimeoutMs,
    terminateTimeoutMs,
  };
}
