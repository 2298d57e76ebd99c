/**
 * Internal: what the token cache reports. Counters for cache hits, refreshes ahead of
 * expiry and stale tokens served; a span, a counter and a duration per token fetch, with an
 * event and a counter per retried attempt. Attributes: kinds, outcomes, counts and the
 * minted token's fingerprint; never the token, its audience, a key or an email.
 */
import {instruments} from './instruments.js';
import {SPAN} from './metric-names.js';
import {SPAN_KIND_CLIENT, SPAN_STATUS_ERROR} from './otel-api.js';
import type {Attributes} from './otel-api.js';

/** What kind of token. */
export type TokenKind = 'id' | 'access';

/**
 * What stands behind a source, from the prefix of its `id` (the rest, which may hold an
 * email or a path, is never recorded): `service_account_key`, `adc`, `impersonated`, or
 * `custom` for any other source.
 */
export function sourceKind(sourceId: string): string {
  if (sourceId.startsWith('key:')) return 'service_account_key';
  if (sourceId.startsWith('adc:')) return 'adc';
  if (sourceId.startsWith('impersonate:')) return 'impersonated';
  return 'custom';
}

/** A token was served from the cache without waiting. */
export function recordCacheHit(kind: TokenKind): void {
  instruments()?.cacheHits.add(1, {'token.kind': kind});
}

/** A background refresh started ahead of expiry. */
export function recordRefreshAhead(kind: TokenKind): void {
  instruments()?.refreshAhead.add(1, {'token.kind': kind});
}

/** A still-valid token was served although its last refresh failed. */
export function recordStaleServed(kind: TokenKind): void {
  instruments()?.staleServed.add(1, {'token.kind': kind});
}

/** Hooks a token fetch calls while it runs. */
export interface TokenFetchObserver {
  /** Attempt `attempt` failed with a transient `failure`; the next starts after `waitMs`. */
  retry(attempt: number, failure: string, waitMs: number): void;
  /** The fetch ended after `attempts`; `failure` is the kind of the last failure when it failed. */
  end(attempts: number, failure?: string): void;
}

const SILENT: TokenFetchObserver = {retry: () => undefined, end: () => undefined};

/**
 * Runs one token fetch inside a span (the active span while it runs, so that HTTP client
 * spans nest under it) and records its outcome. `fingerprint` turns the minted token into
 * `sha256:…`, called only when the span is recorded.
 */
export function observeTokenFetch<T>(
  sourceId: string,
  kind: TokenKind,
  run: (observer: TokenFetchObserver) => Promise<T>,
  fingerprint: (value: T) => string,
): Promise<T> {
  const ins = instruments();
  if (!ins) return run(SILENT);
  const common: Attributes = {'source.kind': sourceKind(sourceId), 'token.kind': kind};
  const span = ins.tracer.startSpan(SPAN.tokenFetch, {attributes: common, kind: SPAN_KIND_CLIENT});
  const started = performance.now();
  let attempts = 0;
  let failure: string | undefined;
  const observer: TokenFetchObserver = {
    retry(attempt, kindOfFailure, waitMs) {
      ins.tokenRetries.add(1, {...common, 'failure.kind': kindOfFailure});
      span.addEvent('retry', {
        attempt,
        'failure.kind': kindOfFailure,
        'wait.ms': Math.round(waitMs),
      });
    },
    end(count, kindOfFailure) {
      attempts = count;
      failure = kindOfFailure;
    },
  };
  const finish = (outcome: 'success' | 'failure') => {
    const attributes: Attributes = {...common, outcome};
    if (outcome === 'failure') attributes['failure.kind'] = failure ?? 'permanent';
    ins.tokenFetches.add(1, attributes);
    ins.tokenFetchDuration.record((performance.now() - started) / 1000, {...common, outcome});
    span.setAttribute('outcome', outcome);
    if (attempts > 0) span.setAttribute('attempts', attempts);
    if (outcome === 'failure') {
      span.setAttribute('failure.kind', failure ?? 'permanent');
      span.setStatus({
        code: SPAN_STATUS_ERROR,
        message: `token fetch failed (${failure ?? 'permanent'})`,
      });
    }
  };
  const api = ins.api;
  return api.context
    .with(api.trace.setSpan(api.context.active(), span), () => run(observer))
    .then(
      (value) => {
        finish('success');
        if (span.isRecording()) span.setAttribute('token.fingerprint', fingerprint(value));
        span.end();
        return value;
      },
      (error: unknown) => {
        finish('failure');
        span.end();
        throw error;
      },
    );
}
