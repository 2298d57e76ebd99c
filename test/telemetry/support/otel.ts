/**
 * The OpenTelemetry SDK with in-memory exporters, registered as the global providers of this
 * test process (each test file runs in its own fork): what an application would install.
 */
import {metrics, trace} from '@opentelemetry/api';
import {DataPointType, MeterProvider, MetricReader} from '@opentelemetry/sdk-metrics';
import type {CollectionResult, ResourceMetrics} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type {ReadableSpan} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing: the test collects on demand. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point of a metric, flattened. */
export interface Point {
  metric: string;
  attributes: Record<string, unknown>;
  /** The sum for counters, the count for histograms. */
  value: number;
}

export interface Telemetry {
  /** Every data point recorded so far (cumulative). */
  points(): Promise<Point[]>;
  /** The sum of a metric's points whose attributes include `match`. */
  total(metric: string, match?: Record<string, unknown>): Promise<number>;
  /** Finished spans. */
  spans(): ReadableSpan[];
  /** Forgets finished spans. */
  resetSpans(): void;
}

/** Installs the SDK globally (once per process) and returns readers of what it recorded. */
export function installTelemetry(): Telemetry {
  const reader = new CollectingReader();
  metrics.setGlobalMeterProvider(new MeterProvider({readers: [reader]}));
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({spanProcessors: [new SimpleSpanProcessor(spans)]}),
  );
  const points = async (): Promise<Point[]> => {
    const result: CollectionResult = await reader.collect();
    const resource: ResourceMetrics = result.resourceMetrics;
    const out: Point[] = [];
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          const value =
            metric.dataPointType === DataPointType.HISTOGRAM
              ? (point.value as {count: number}).count
              : (point.value as number);
          out.push({metric: metric.descriptor.name, attributes: {...point.attributes}, value});
        }
      }
    }
    return out;
  };
  return {
    points,
    async total(metric, match = {}) {
      let sum = 0;
      for (const point of await points()) {
        if (point.metric !== metric) continue;
        if (Object.entries(match).every(([k, v]) => point.attributes[k] === v)) sum += point.value;
      }
      return sum;
    },
    spans: () => spans.getFinishedSpans(),
    resetSpans: () => spans.reset(),
  };
}
