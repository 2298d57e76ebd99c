/**
 * Injected faults and latency: a fault applies to the next `count` matching requests; the
 * global latency delays every request. A fault answers a status (with headers such as
 * `Retry-After`), a body or a malformed answer, delays the real answer, stays silent until
 * the client times out (`stall`), or drops the connection (`reset`).
 */
import {EMULATOR_ENDPOINTS, isEmulatorEndpoint} from './endpoints.js';
import type {EmulatorEndpoint} from './endpoints.js';
import {googleApiError, googleStatusName, jsonReply, oauthError, textReply} from './http.js';
import type {EmulatorReply} from './http.js';
import {METADATA_FLAVOR_HEADERS} from './metadata-server.js';

/** A fault to inject (see `GoogleEmulator.fault`). */
export interface EmulatorFault {
  /** Which endpoint it applies to. Default is `'all'`. */
  endpoint?: EmulatorEndpoint | 'all';
  /** Answer with this HTTP status (100-599) instead of the real answer. Default: the real answer, unless `malformed` or `body` is set (then 200). */
  status?: number;
  /** Answer with this body (raw) instead of the default error body. */
  body?: string;
  /** Answer with a body that does not parse as the endpoint's format. Default is false. */
  malformed?: boolean;
  /** Delay the answer by this many milliseconds (added to the global latency). Default is 0. */
  latencyMs?: number;
  /**
   * Extra headers on the injected answer (with `status`, `body` or `malformed`), e.g.
   * `{'retry-after': '2'}` with status 429 or 503. Default is none.
   */
  headers?: Record<string, string>;
  /**
   * Never answer: the request is read and the connection stays open, silent, until the
   * client gives up (its timeout) or the emulator closes. Default is false.
   */
  stall?: boolean;
  /** Drop the connection without answering (the client sees a reset socket). Default is false. */
  reset?: boolean;
  /** How many matching requests it applies to (positive integer). Default is 1. */
  count?: number;
}

/** A queued fault, validated. */
export interface PendingFault {
  endpoint: EmulatorEndpoint | 'all';
  status: number | undefined;
  body: string | undefined;
  malformed: boolean;
  latencyMs: number;
  headers: Record<string, string>;
  stall: boolean;
  reset: boolean;
  remaining: number;
}

function check(condition: boolean, option: string, requirement: string, value: unknown): void {
  if (!condition)
    throw new TypeError(`${option} must be ${requirement}, got ${JSON.stringify(value)}`);
}

/** Validates a latency in milliseconds (finite, >= 0). */
export function validateLatency(value: unknown, option: string): number {
  check(
    typeof value === 'number' && Number.isFinite(value) && value >= 0,
    option,
    'a finite number of milliseconds >= 0',
    value,
  );
  return value as number;
}

/** The pending faults of an emulator and its global latency. */
export class FaultInjector {
  #faults: PendingFault[] = [];
  /** Latency added to every request, milliseconds. */
  latencyMs: number;

  /** `latencyMs`: initial global latency. */
  constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
  }

  /** Queues a fault; throws a TypeError naming the bad option. */
  add(fault: EmulatorFault): void {
    check(fault !== null && typeof fault === 'object', 'fault', 'an object', fault);
    const endpoint = fault.endpoint ?? 'all';
    check(
      endpoint === 'all' || isEmulatorEndpoint(endpoint),
      'fault.endpoint',
      `'all' or one of ${EMULATOR_ENDPOINTS.join(', ')}`,
      endpoint,
    );
    if (fault.status !== undefined) {
      check(
        Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599,
        'fault.status',
        'an HTTP status (100-599)',
        fault.status,
      );
    }
    if (fault.body !== undefined)
      check(typeof fault.body === 'string', 'fault.body', 'a string', fault.body);
    const headers = fault.headers ?? {};
    check(
      headers !== null &&
        typeof headers === 'object' &&
        Object.entries(headers).every(
          ([name, value]) =>
            /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) && typeof value === 'string',
        ),
      'fault.headers',
      'an object of header names to string values',
      headers,
    );
    for (const flag of ['stall', 'reset', 'malformed'] as const) {
      if (fault[flag] !== undefined)
        check(typeof fault[flag] === 'boolean', `fault.${flag}`, 'a boolean', fault[flag]);
    }
    check(
      !(fault.stall && fault.reset),
      'fault.stall',
      'not set together with fault.reset (a connection either stays silent or drops)',
      true,
    );
    const count = fault.count ?? 1;
    check(Number.isInteger(count) && count > 0, 'fault.count', 'a positive integer', count);
    const latencyMs =
      fault.latencyMs === undefined ? 0 : validateLatency(fault.latencyMs, 'fault.latencyMs');
    this.#faults.push({
      endpoint,
      status: fault.status,
      body: fault.body,
      malformed: fault.malformed === true,
      latencyMs,
      headers: {...headers},
      stall: fault.stall === true,
      reset: fault.reset === true,
      remaining: count,
    });
  }

  /** Removes every pending fault (the global latency stays). */
  clear(): void {
    this.#faults = [];
  }

  /** Consumes the first pending fault matching `endpoint`, if any. */
  take(endpoint: EmulatorEndpoint | undefined): PendingFault | undefined {
    const index = this.#faults.findIndex((f) => f.endpoint === 'all' || f.endpoint === endpoint);
    if (index < 0) return undefined;
    const fault = this.#faults[index] as PendingFault;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(index, 1);
    return fault;
  }
}

/** Replaces the real answer, or `undefined` when the fault only delays. */
export function faultReply(
  fault: PendingFault,
  endpoint: EmulatorEndpoint | undefined,
): EmulatorReply | undefined {
  if (fault.status === undefined && fault.body === undefined && !fault.malformed) return undefined;
  const status = fault.status ?? 200;
  const metadata = endpoint?.startsWith('metadata.') ?? false;
  const extra: Record<string, string> = {
    ...(metadata ? METADATA_FLAVOR_HEADERS : {}),
    ...fault.headers,
  };
  if (fault.body !== undefined) {
    return textReply(
      status,
      fault.body,
      extra,
      metadata ? 'application/text' : 'application/json; charset=utf-8',
    );
  }
  if (fault.malformed) {
    if (endpoint === 'metadata.identity')
      return textReply(status, 'not-a-jwt%%', extra, 'application/text');
    return textReply(
      status,
      '{"access_token": "ya29.emu-trunc',
      extra,
      'application/json; charset=utf-8',
    );
  }
  const message = `Fault injected by the emulator (${status} ${googleStatusName(status)}).`;
  if (metadata) return textReply(status, `${message}\n`, extra, 'application/text');
  const reply =
    endpoint === 'token' || endpoint === 'sts'
      ? oauthError(status, status >= 500 ? 'internal_failure' : 'invalid_request', message)
      : endpoint === 'jwks' || endpoint === 'iap.jwks' || endpoint === 'openid-configuration'
        ? jsonReply(status, {error: message})
        : googleApiError(status, message);
  return {...reply, headers: {...reply.headers, ...fault.headers}};
}
