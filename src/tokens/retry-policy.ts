/**
 * The one retry policy for every token fetch (token endpoint, metadata server, IAM
 * Credentials, STS): transient failures are tried again with jittered exponential backoff
 * within a budget of time, permanent ones are reported at once. The {@link TokenCache} runs
 * it inside its single-flight fetch, so concurrent callers share one series of attempts; the
 * clients underneath retry nothing on their own (see google-auth-transport.ts).
 */
import {CredentialExchangeError} from '../credentials/errors.js';
import {withAttemptSignal} from './attempt-signal.js';
import {scrubSecrets} from './sources/redact.js';
import {classifyFailure, markSettled} from './transient-failure.js';
import type {FailureKind} from './transient-failure.js';

/**
 * How token fetches are retried. Validated once, when the {@link TokenCache} is built.
 *
 * With the defaults, a fetch that meets a burst of five fast failures (5xx, 429, a reset
 * connection, a malformed answer) still succeeds on its sixth attempt about 1.5 to 3 seconds
 * in; a timed-out attempt costs `attemptTimeoutMs`, so the budget holds two of those.
 */
export interface TokenRetryOptions {
  /**
   * Longest time one token fetch may take, all attempts and waits included, in
   * milliseconds. No attempt starts, and no wait begins, that would end past it. `0` turns
   * retries off (one attempt). Default is 5000 (5 seconds).
   */
  budgetMs?: number;
  /**
   * Wait before the second attempt, in milliseconds; it doubles for every further attempt, up
   * to `maxDelayMs`, and each wait is jittered to between half and all of that value.
   * Default is 100.
   */
  initialDelayMs?: number;
  /** Longest wait between two attempts, in milliseconds (>= `initialDelayMs`). Default is 2000 (2 seconds). */
  maxDelayMs?: number;
  /**
   * Longest wait for one attempt's answer, in milliseconds, capped by what is left of the
   * budget. The attempt's request is aborted when it runs out. Default is 2000 (2 seconds).
   */
  attemptTimeoutMs?: number;
  /** Source of jitter, in [0, 1). Default is `Math.random`. */
  random?: () => number;
  /** Monotonic clock for the budget, in milliseconds. Default is `performance.now`. */
  now?: () => number;
  /**
   * Waits `ms` milliseconds, or rejects early when `signal` aborts (for backoff and attempt
   * timeouts). Default is a timer. Tests give a fake one.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Hooks a run of the policy calls, for metrics and traces. */
export interface RetryHooks {
  /** Attempt `attempt` failed with a transient `failure`; the next starts after `waitMs`. */
  onRetry?(attempt: number, failure: FailureKind, waitMs: number): void;
  /** The run is over. */
  onEnd?(report: RetryReport): void;
}

/** What one run of the policy did, for metrics. */
export interface RetryReport {
  /** Attempts made (1 when the first succeeded). */
  readonly attempts: number;
  /** Time from the first attempt to the outcome, in milliseconds. */
  readonly elapsedMs: number;
  /** How the last attempt failed (`undefined` on success). */
  readonly failure?: FailureKind;
}

const DEFAULTS = {budgetMs: 5000, initialDelayMs: 100, maxDelayMs: 2000, attemptTimeoutMs: 2000};

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, {once: true});
  });
}

/** An attempt that ran out of time. */
class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Internal: one validated retry policy. */
export class RetryPolicy {
  readonly budgetMs: number;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #attemptMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  /** `owner` names the option in TypeErrors, e.g. `TokenCacheOptions.retry`. */
  constructor(options: TokenRetryOptions = {}, owner = 'TokenCacheOptions.retry') {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${owner} must be an object of retry settings`);
    }
    const ms = (name: keyof typeof DEFAULTS, min: number): number => {
      const value = options[name] ?? DEFAULTS[name];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
        throw new TypeError(
          `${owner}.${name} must be a finite number of milliseconds >= ${min}, got ${String(value)}`,
        );
      }
      return value;
    };
    this.budgetMs = ms('budgetMs', 0);
    this.#initialMs = ms('initialDelayMs', 1);
    this.#maxMs = ms('maxDelayMs', this.#initialMs);
    this.#attemptMs = ms('attemptTimeoutMs', 1);
    for (const name of ['random', 'now', 'sleep'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw new TypeError(`${owner}.${name} must be a function`);
      }
    }
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Runs `attempt` until it succeeds, fails permanently or the budget is spent. Each attempt
   * gets a signal that aborts when its time is up (also current for the fetch below it, see
   * attempt-signal.ts). `what` names the fetch in messages (`an ID token for audience "…"
   * from …`). The error that ends the run says how many attempts were made over how long,
   * and is never retried by an outer policy.
   */
  async run<T>(
    attempt: (signal: AbortSignal) => Promise<T>,
    what: () => string,
    hooks: RetryHooks = {},
    limits: {attemptTimeoutMs?: number | undefined} = {},
  ): Promise<T> {
    const report = (outcome: RetryReport) => hooks.onEnd?.(outcome);
    // A source slower than one request (TokenSource.attemptTimeoutMs) gets its own attempt
    // time, and a budget that holds one such attempt.
    const sourceMs = validLimit(limits.attemptTimeoutMs);
    const attemptMs = Math.max(this.#attemptMs, sourceMs);
    const budgetMs = this.budgetMs === 0 ? 0 : Math.max(this.budgetMs, sourceMs);
    const start = this.#now();
    // The last failure that was an answer (or a full attempt's timeout): what the final error
    // quotes when the last attempt is only cut short by the budget.
    let lastAnswer: {error: unknown; failure: string | undefined} | undefined;
    for (let attempts = 1; ; attempts++) {
      const left = budgetMs - (this.#now() - start);
      const timeoutMs = budgetMs === 0 ? attemptMs : Math.min(attemptMs, left);
      let timedOut = false;
      try {
        const value = await this.#attempt(attempt, timeoutMs, () => {
          timedOut = true;
        });
        report({attempts, elapsedMs: this.#now() - start});
        return value;
      } catch (error) {
        const verdict = classifyFailure(error, timedOut);
        const elapsedMs = this.#now() - start;
        const failure = timedOut
          ? `Could not get ${what()}: no answer within ${seconds(timeoutMs)}.`
          : undefined;
        const cutByBudget = timedOut && timeoutMs < attemptMs;
        const quoted = cutByBudget && lastAnswer ? lastAnswer : {error, failure};
        if (!cutByBudget) lastAnswer = {error, failure};
        if (verdict.kind === 'permanent' || budgetMs === 0) {
          report({attempts, elapsedMs, failure: verdict.kind});
          throw markSettled(
            attempts === 1 && !failure
              ? error
              : this.#final(
                  error,
                  failure,
                  verdict.kind === 'permanent'
                    ? `Not retried: this was attempt ${attempts}, ${seconds(elapsedMs)} after the first.`
                    : `Gave up after ${attempts} ${plural(attempts)} over ${seconds(elapsedMs)} (retries are off).`,
                ),
          );
        }
        const backoff = this.#backoff(attempts);
        const wait = Math.max(backoff, verdict.retryAfterMs ?? 0);
        if (elapsedMs + wait >= budgetMs) {
          report({attempts, elapsedMs, failure: verdict.kind});
          const asked =
            verdict.retryAfterMs !== undefined && verdict.retryAfterMs > backoff
              ? `; Google asked to wait ${seconds(verdict.retryAfterMs)} (Retry-After)`
              : '';
          throw markSettled(
            this.#final(
              quoted.error,
              quoted.failure,
              `Gave up after ${attempts} ${plural(attempts)} over ${seconds(elapsedMs)} (retry budget ${seconds(budgetMs)}${asked}).`,
            ),
          );
        }
        hooks.onRetry?.(attempts, verdict.kind, wait);
        await this.#sleep(wait, new AbortController().signal);
      }
    }
  }

  /** The wait after `attempts` failed attempts: exponential, capped, jittered to [half, all]. */
  #backoff(attempts: number): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** (attempts - 1));
    return ceiling / 2 + (this.#random() * ceiling) / 2;
  }

  async #attempt<T>(
    attempt: (signal: AbortSignal) => Promise<T>,
    timeoutMs: number,
    onTimeout: () => void,
  ): Promise<T> {
    const controller = new AbortController();
    const timer = new AbortController();
    const expired = new Promise<never>((_resolve, reject) => {
      this.#sleep(timeoutMs, timer.signal).then(
        () => {
          const error = new AttemptTimeoutError(`no answer within ${seconds(timeoutMs)}`);
          onTimeout();
          controller.abort(error);
          reject(error);
        },
        () => {
          // The attempt settled first and cancelled the timer.
        },
      );
    });
    try {
      let pending: Promise<T>;
      try {
        pending = withAttemptSignal(controller.signal, () => attempt(controller.signal));
      } catch (error) {
        // A source that throws instead of rejecting fails this attempt like any other.
        pending = Promise.reject(error);
      }
      return await Promise.race([pending, expired]);
    } finally {
      timer.abort();
    }
  }

  /** The error that ends a run: the last failure's words (or `timeout`), then the `suffix` sentence. */
  #final(error: unknown, timeout: string | undefined, suffix: string): CredentialExchangeError {
    const base =
      timeout ??
      (error instanceof CredentialExchangeError
        ? error.message
        : scrubSecrets(error instanceof Error ? error.message : String(error)));
    const sentence = /[.!?]$/.test(base) ? base : `${base}.`;
    const code = error instanceof CredentialExchangeError ? error.code : 'exchange_failed';
    return new CredentialExchangeError(`${sentence} ${suffix}`, {cause: error, code});
  }
}

/** A source's attempt time when it is a positive finite number of milliseconds, else 0. */
function validLimit(ms: number | undefined): number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function plural(attempts: number): string {
  return attempts === 1 ? 'attempt' : 'attempts';
}

/** `4.8 s`. */
function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}
