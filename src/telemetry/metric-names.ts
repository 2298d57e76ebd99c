/**
 * The names this package records under, for dashboards and alerts (README "Operating it").
 * Attributes carry kinds, outcomes, codes and fingerprints only: never a token, a key, an
 * assertion or an email.
 */

/** The instrumentation scope (meter and tracer name). */
export const TELEMETRY_SCOPE = 'mcp-google-auth';

/** Metric names. */
export const METRIC = {
  /** Counter: token fetches (one per single-flight fetch). `source.kind`, `token.kind`, `outcome` (`success`/`failure`), `failure.kind` on failure. */
  tokenFetches: 'mcp_google_auth.token.fetches',
  /** Histogram, seconds: how long a token fetch took, retries included. `source.kind`, `token.kind`, `outcome`. */
  tokenFetchDuration: 'mcp_google_auth.token.fetch.duration',
  /** Counter: attempts made again by the retry policy. `source.kind`, `token.kind`, `failure.kind` of the attempt that failed. */
  tokenRetries: 'mcp_google_auth.token.retries',
  /** Counter: tokens served from the cache without waiting. `token.kind`. */
  cacheHits: 'mcp_google_auth.token.cache.hits',
  /** Counter: background refreshes started ahead of expiry. `token.kind`. */
  refreshAhead: 'mcp_google_auth.token.refresh_ahead',
  /** Counter: still-valid tokens served after their refresh failed (stale-if-error). `token.kind`. */
  staleServed: 'mcp_google_auth.token.stale_served',
  /** Counter: 401s from the target. `token.kind`, `outcome` (`recovered`: the retry with a fresh token passed; `refused`: refused again; `suppressed`: not retried, cooldown). */
  unauthorizedRetries: 'mcp_google_auth.http.unauthorized_retries',
  /** Counter: ID tokens verified. `result` (`accept`/`reject`), `code` on reject (the `IdTokenVerificationError` code). */
  verifications: 'mcp_google_auth.verify.results',
  /** Counter: proxy sessions opened. `proxy.mode` (`stdio`/`http`). */
  proxySessionsOpened: 'mcp_google_auth.proxy.sessions.opened',
  /** Up-down counter: proxy sessions open now. `proxy.mode`. */
  proxySessionsActive: 'mcp_google_auth.proxy.sessions.active',
} as const;

/** Span names. */
export const SPAN = {
  /** Around one token fetch and its retries; an event `retry` per failed attempt. */
  tokenFetch: 'mcp_google_auth.token.fetch',
  /** Around the retry of a request after a 401: invalidate, refetch, send again. */
  unauthorizedRetry: 'mcp_google_auth.http.unauthorized_retry',
} as const;
