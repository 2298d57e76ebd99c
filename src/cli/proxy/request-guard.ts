import {createHash, timingSafeEqual} from 'node:crypto';
import type {IncomingHttpHeaders} from 'node:http';
import {isIP} from 'node:net';
import {hostNameOf, isLoopbackHost} from './loopback.js';

/** Options of {@link RequestGuard}. */
export interface RequestGuardOptions {
  /** The address the proxy is bound to; its name is allowed in `Host` (unless it is a wildcard such as `0.0.0.0`). */
  boundHost: string;
  /** More host names or addresses allowed in `Host` and `Origin` (`--allowed-host`), without port. Default is none. */
  allowedHosts?: readonly string[];
  /** A shared secret every request must carry as `Authorization: Bearer <token>`. Default is none. */
  requireToken?: string;
}

/** Most remembered `Host` judgements (a flood of made-up names only clears them). */
const MAX_JUDGED = 64;

/** Wildcard bind addresses: they name no host a client would put in `Host`. */
const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/**
 * Checks every request to the HTTP proxy before anything else happens, since whoever gets
 * through acts with the proxy's Google identity:
 * - `Host` must name a loopback host, the bound address, or an allowed host: a page that
 *   rebinds its own DNS name to this machine (DNS rebinding) sends its own name and is refused,
 *   on every bind address;
 * - an `Origin` (sent by browsers) must name one of the same hosts;
 * - with a required token, `Authorization: Bearer <token>` must carry it (compared in
 *   constant time), so that other users of a shared machine cannot use the proxy.
 */
export class RequestGuard {
  readonly #allowed: ReadonlySet<string>;
  readonly #token: Buffer | undefined;
  /** `Host` values already judged (a client sends the same one every time); bounded. */
  readonly #judged = new Map<string, boolean>();

  constructor(options: RequestGuardOptions) {
    const allowed = new Set<string>();
    const bound = normalizeHost(options.boundHost);
    if (!WILDCARDS.has(bound)) allowed.add(bound);
    for (const host of options.allowedHosts ?? []) allowed.add(normalizeHost(host));
    this.#allowed = allowed;
    this.#token = options.requireToken === undefined ? undefined : digest(options.requireToken);
  }

  /** Why the request must be refused, or `undefined` to serve it. Never names the token. */
  check(headers: IncomingHttpHeaders): string | undefined {
    const host = headers.host;
    if (host === undefined || host === '' || !this.#isAllowedHost(host)) {
      return `Host ${JSON.stringify(host ?? '')} is not an allowed name for this proxy (loopback, the bound address, or --allowed-host)`;
    }
    const origin = headers.origin;
    if (origin !== undefined && origin !== '') {
      let originHost: string;
      try {
        originHost = new URL(origin).hostname;
      } catch {
        return `Origin ${JSON.stringify(origin)} is not a URL`;
      }
      if (!this.#isAllowed(hostNameOf(originHost))) {
        return `Origin ${JSON.stringify(origin)} is another site`;
      }
    }
    if (this.#token !== undefined) {
      const value = headers.authorization;
      const match = typeof value === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), this.#token)) {
        return 'the request does not carry the proxy token (Authorization: Bearer <token>, see --require-token)';
      }
    }
    return undefined;
  }

  /** A `Host` header value (name and port) against the allowed names. */
  #isAllowedHost(value: string): boolean {
    let allowed = this.#judged.get(value);
    if (allowed === undefined) {
      allowed = this.#isAllowed(hostNameOf(value));
      if (this.#judged.size >= MAX_JUDGED) this.#judged.clear();
      this.#judged.set(value, allowed);
    }
    return allowed;
  }

  #isAllowed(name: string): boolean {
    return isLoopbackHost(name) || this.#allowed.has(name);
  }
}

/**
 * A host name or address as `Host` comparisons see it: lower case, no port, no IPv6
 * brackets. Throws a TypeError for a value that cannot be a host.
 */
export function normalizeHost(value: string): string {
  const trimmed = value.trim().toLowerCase();
  if (isIP(trimmed) === 6) return trimmed;
  if (!/^(\[[0-9a-f:.]+\]|[^\s/@?#[\]:]+)(:\d{1,5})?$/.test(trimmed)) {
    throw new TypeError(`${JSON.stringify(value)} is not a host name or address`);
  }
  return hostNameOf(trimmed);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
