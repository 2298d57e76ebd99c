/**
 * Internal: what `googleAuthFetch` reports about 401s from its target: a span around each
 * retry with a fresh token (from the refused answer to the retried one), and a counter by
 * what followed. Attributes: the token kind, the outcome and the status; never a token.
 */
import {instruments} from './instruments.js';
import {SPAN} from './metric-names.js';
import {SPAN_KIND_INTERNAL, SPAN_STATUS_ERROR} from './otel-api.js';
import type {Span} from './otel-api.js';
import type {TokenKind} from './token-telemetry.js';

/** A retry after a 401 in progress. */
export interface UnauthorizedRetry {
  /** The retried request was answered with `status` (or failed: `undefined`). */
  end(status: number | undefined): void;
}

const NONE: UnauthorizedRetry = {end: () => undefined};

/** A 401 from the target is about to be retried with a fresh token. */
export function startUnauthorizedRetry(kind: TokenKind): UnauthorizedRetry {
  const ins = instruments();
  if (!ins) return NONE;
  const span: Span = ins.tracer.startSpan(SPAN.unauthorizedRetry, {
    attributes: {'token.kind': kind},
    kind: SPAN_KIND_INTERNAL,
  });
  let ended = false;
  return {
    end(status) {
      if (ended) return;
      ended = true;
      const outcome = status === 401 ? 'refused' : status === undefined ? 'error' : 'recovered';
      ins.unauthorizedRetries.add(1, {'token.kind': kind, outcome});
      span.setAttribute('outcome', outcome);
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (outcome !== 'recovered') {
        span.setStatus({code: SPAN_STATUS_ERROR, message: `retry after 401: ${outcome}`});
      }
      span.end();
    },
  };
}

/** A 401 from the target was returned as it was: a fresh token was refused moments ago (cooldown). */
export function recordUnauthorizedSuppressed(kind: TokenKind): void {
  instruments()?.unauthorizedRetries.add(1, {'token.kind': kind, outcome: 'suppressed'});
}
