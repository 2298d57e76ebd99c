/**
 * Internal: the instruments and the tracer, built from whatever providers are registered
 * globally when they are first needed, and built again when an application registers its
 * providers later (the metrics API has no proxy that would forward to a late provider).
 */
import {createRequire} from 'node:module';
import {METRIC, TELEMETRY_SCOPE} from './metric-names.js';
import {otelApi} from './otel-api.js';
import type {Counter, Histogram, OtelApi, Tracer} from './otel-api.js';

/** Every instrument this package records with. */
export interface Instruments {
  readonly api: OtelApi;
  readonly tracer: Tracer;
  readonly tokenFetches: Counter;
  readonly tokenFetchDuration: Histogram;
  readonly tokenRetries: Counter;
  readonly cacheHits: Counter;
  readonly refreshAhead: Counter;
  readonly staleServed: Counter;
  readonly unauthorizedRetries: Counter;
  readonly verifications: Counter;
  readonly proxySessionsOpened: Counter;
  readonly proxySessionsActive: Counter;
}

let version: string | undefined;

/** This package's version, read once, when instruments are first built. */
function packageVersion(): string {
  version ??= (createRequire(import.meta.url)('../../package.json') as {version: string}).version;
  return version;
}

let built: Instruments | undefined;
let meterProvider: unknown;
let tracerProvider: unknown;

/** The instruments for the providers registered now, or `undefined` without `@opentelemetry/api`. */
export function instruments(): Instruments | undefined {
  const api = otelApi();
  if (!api) return undefined;
  const meters = api.metrics.getMeterProvider();
  const tracers = api.trace.getTracerProvider();
  if (built && meters === meterProvider && tracers === tracerProvider) return built;
  meterProvider = meters;
  tracerProvider = tracers;
  const meter = meters.getMeter(TELEMETRY_SCOPE, packageVersion());
  built = {
    api,
    tracer: tracers.getTracer(TELEMETRY_SCOPE, packageVersion()),
    tokenFetches: meter.createCounter(METRIC.tokenFetches, {
      description: 'Token fetches (one per single-flight fetch, retries included)',
    }),
    tokenFetchDuration: meter.createHistogram(METRIC.tokenFetchDuration, {
      description: 'Duration of token fetches, retries included',
      unit: 's',
      advice: {explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]},
    }),
    tokenRetries: meter.createCounter(METRIC.tokenRetries, {
      description: 'Token fetch attempts made again after a transient failure',
    }),
    cacheHits: meter.createCounter(METRIC.cacheHits, {
      description: 'Tokens served from the cache without waiting',
    }),
    refreshAhead: meter.createCounter(METRIC.refreshAhead, {
      description: 'Background token refreshes started ahead of expiry',
    }),
    staleServed: meter.createCounter(METRIC.staleServed, {
      description: 'Still-valid tokens served after their refresh failed',
    }),
    unauthorizedRetries: meter.createCounter(METRIC.unauthorizedRetries, {
      description: '401 answers from the target, by what followed',
    }),
    verifications: meter.createCounter(METRIC.verifications, {
      description: 'ID token verifications, by result and rejection code',
    }),
    proxySessionsOpened: meter.createCounter(METRIC.proxySessionsOpened, {
      description: 'Proxy sessions opened',
    }),
    proxySessionsActive: meter.createUpDownCounter(METRIC.proxySessionsActive, {
      description: 'Proxy sessions open now',
    }),
  };
  return built;
}
