/**
 * What a soak injects, in turn, one event every few seconds: bursts of 5xx, 429 with
 * `Retry-After`, timeouts, connection resets and malformed answers from every Google endpoint
 * a client gets its tokens from; revoked tokens together with a burst of errors at the
 * moment every client needs a new token; signing-key rotation; the MCP server losing its
 * sessions and restarting; the front restarting. (Token rotation needs no event: tokens
 * live a few seconds.)
 *
 * A burst is only injected on an endpoint once the previous burst there has been used up,
 * so that no client ever meets more than one burst in a row.
 */
import type {EmulatorEndpoint, EmulatorFault} from '../src/emulator/index.js';
import type {SoakStack} from './stack.js';

/** What an event did, for the token-request budget and the session count. */
export interface EventEffect {
  /** Faulted answers queued on token endpoints (each may cost one request more). */
  tokenFaults: number;
  /** Whether every client's current token was revoked (each client fetches one more). */
  revoked: boolean;
  /** Whether the MCP server lost every session (each client opens one more). */
  sessionLoss: boolean;
  /** Set when the event was skipped, and why. */
  skipped?: string;
}

/** One injectable event. */
export interface SoakEvent {
  readonly name: string;
  apply(stack: SoakStack, bursts: BurstTracker): Promise<EventEffect>;
}

/** Remembers the bursts in flight per endpoint, to keep them from piling up. */
export class BurstTracker {
  readonly #pending = new Map<EmulatorEndpoint, {at: number; count: number}>();

  constructor(private readonly stack: SoakStack) {}

  /** Whether the last burst on `endpoint` has been used up by requests. */
  clear(endpoint: EmulatorEndpoint): boolean {
    const last = this.#pending.get(endpoint);
    if (!last) return true;
    return this.stack.emulator.requests.byEndpoint[endpoint] - last.at >= last.count;
  }

  /** Queues `fault` on each of `endpoints` whose previous burst is used up; returns how many faults were queued. */
  inject(endpoints: readonly EmulatorEndpoint[], fault: Omit<EmulatorFault, 'endpoint'>): number {
    let queued = 0;
    for (const endpoint of endpoints) {
      if (!this.clear(endpoint)) continue;
      const count = fault.count ?? 1;
      this.#pending.set(endpoint, {at: this.stack.emulator.requests.byEndpoint[endpoint], count});
      this.stack.emulator.fault({...fault, endpoint});
      queued += count;
    }
    return queued;
  }
}

const NONE: EventEffect = {tokenFaults: 0, revoked: false, sessionLoss: false};

function burst(
  name: string,
  endpoints: readonly EmulatorEndpoint[],
  fault: Omit<EmulatorFault, 'endpoint'>,
): SoakEvent {
  return {
    name,
    async apply(_stack, bursts) {
      const tokenFaults = bursts.inject(endpoints, fault);
      return tokenFaults === 0
        ? {...NONE, skipped: 'the previous burst there is not used up yet'}
        : {...NONE, tokenFaults};
    },
  };
}

/** Endpoints that mint the ID tokens the clients present (one per client path). */
const ID_TOKEN_ENDPOINTS: readonly EmulatorEndpoint[] = [
  'metadata.identity',
  'iam.generateIdToken',
  'token',
];

/** The events, in the order they are injected (then again from the top). */
export const SOAK_EVENTS: readonly SoakEvent[] = [
  burst('burst: 5 × HTTP 503 from the token endpoint', ['token'], {status: 503, count: 5}),
  {
    name: 'revoked tokens + 5 × HTTP 500 from every ID-token endpoint at once',
    async apply(stack, bursts) {
      stack.front.revokeIssuedBefore();
      const tokenFaults = bursts.inject(ID_TOKEN_ENDPOINTS, {status: 500, count: 5});
      return {...NONE, revoked: true, tokenFaults};
    },
  },
  {
    name: 'signing-key rotation',
    async apply(stack) {
      await stack.emulator.rotateSigningKey();
      return NONE;
    },
  },
  {
    name: 'MCP server loses its sessions',
    async apply(stack) {
      stack.demo.forgetSessions();
      return {...NONE, sessionLoss: true};
    },
  },
  burst('burst: 2 × no answer (timeout) from the metadata server', ['metadata.identity'], {
    stall: true,
    count: 2,
  }),
  burst('burst: 2 × HTTP 429 with Retry-After: 1 from STS', ['sts'], {
    status: 429,
    headers: {'retry-after': '1'},
    count: 2,
  }),
  {
    name: 'MCP server restarts',
    async apply(stack) {
      stack.demo.restart();
      return {...NONE, sessionLoss: true};
    },
  },
  burst('burst: 5 × connection reset from IAM Credentials', ['iam.generateIdToken'], {
    reset: true,
    count: 5,
  }),
  {
    name: 'front restarts',
    async apply(stack) {
      stack.front.restart();
      return NONE;
    },
  },
  burst('burst: 5 × malformed answer from the token endpoint', ['token'], {
    malformed: true,
    count: 5,
  }),
  burst('burst: 5 × HTTP 502 from STS', ['sts'], {status: 502, count: 5}),
  burst('burst: 5 × HTTP 500 from the metadata server', ['metadata.identity'], {
    status: 500,
    count: 5,
  }),
];
