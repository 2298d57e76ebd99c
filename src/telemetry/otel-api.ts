/**
 * Internal: `@opentelemetry/api`, an optional peer dependency, loaded on first use. Nothing is
 * loaded at import, so an entry that never records anything (or a process without the
 * package) pays nothing; when the package is absent every hook is a no-op.
 *
 * Only the few shapes this package uses are typed here, structurally, so that no type of
 * `@opentelemetry/api` reaches the published declarations.
 */
import {createRequire} from 'node:module';

/** Attribute values this package records: kinds, counts and fingerprints only. */
export type Attributes = Record<string, string | number | boolean>;

/** A counter or up-down counter. */
export interface Counter {
  add(value: number, attributes?: Attributes): void;
}

/** A histogram. */
export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}

/** A meter. */
export interface Meter {
  createCounter(name: string, options?: {description?: string; unit?: string}): Counter;
  createUpDownCounter(name: string, options?: {description?: string; unit?: string}): Counter;
  createHistogram(
    name: string,
    options?: {description?: string; unit?: string; advice?: {explicitBucketBoundaries?: number[]}},
  ): Histogram;
}

/** A span. */
export interface Span {
  setAttribute(key: string, value: string | number | boolean): unknown;
  addEvent(name: string, attributes?: Attributes): unknown;
  setStatus(status: {code: number; message?: string}): unknown;
  isRecording(): boolean;
  end(): void;
}

/** A tracer. */
export interface Tracer {
  startSpan(name: string, options?: {attributes?: Attributes; kind?: number}): Span;
}

/** The slice of `@opentelemetry/api` used here. */
export interface OtelApi {
  metrics: {getMeterProvider(): {getMeter(name: string, version?: string): Meter}};
  trace: {
    getTracerProvider(): {getTracer(name: string, version?: string): Tracer};
    setSpan(context: unknown, span: Span): unknown;
  };
  context: {active(): unknown; with<T>(context: unknown, fn: () => T): T};
}

/** `SpanStatusCode.ERROR` of the API. */
export const SPAN_STATUS_ERROR = 2;
/** `SpanKind.CLIENT` of the API. */
export const SPAN_KIND_CLIENT = 2;
/** `SpanKind.INTERNAL` of the API. */
export const SPAN_KIND_INTERNAL = 0;

/** `undefined`: not tried yet; `null`: not installed. */
let loaded: OtelApi | null | undefined;

/** The API when it is installed, else `undefined`. Loaded once, on the first call. */
export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** Whether the API has been loaded (for the test that proves importing loads nothing). */
export function otelApiLoaded(): boolean {
  return loaded !== undefined && loaded !== null;
}

/** Tests only: pretend the package is absent (`null`), or load it again on next use (`undefined`). */
export function setOtelApiForTesting(api: OtelApi | null | undefined): void {
  loaded = api;
}
