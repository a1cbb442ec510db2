/**
 * OpenTelemetry traces for the gateway, the subgraphs and their database commands.
 *
 *  - A W3C `traceparent` (and `tracestate`) on an incoming request is honoured: the request's span
 *    continues that trace. Without one the gateway starts a new trace.
 *  - The gateway forwards the context to every subgraph it calls (gateway/datasource.ts), and each
 *    subgraph's database commands become child spans of its request (lib/metrics.ts listens to the
 *    driver's command monitoring).
 *  - Spans leave the process only when an OTLP endpoint is configured
 *    (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; OTLP over
 *    HTTP/protobuf-JSON). Without one nothing is exported, but trace ids still exist, so every log
 *    line (lib/logger.ts) and audit record (lib/auth/audit.ts) carries the trace id.
 *
 * One tracer provider per process (`npm start` runs every service in one process; each service
 * names its spans). The provider is installed by the first server factory that runs.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, isSpanContextValid, type Context, type Span, type Attributes } from '@opentelemetry/api';
import type { NodeTracerProvider, ReadableSpan, SpanExporter, SpanProcessor, Span as SdkSpan } from '@opentelemetry/sdk-trace-node';
import type express from 'express';
import { tracingFromEnv, type TracingSettings } from './config';

const TRACER = 'city-community-graph';

/** Fans spans out to the exporters added so far (none by default: spans are dropped when they end). */
class ExporterFanOut implements SpanProcessor {
  readonly targets: SpanProcessor[] = [];
  onStart(span: SdkSpan, parent: Context): void {
    for (const t of this.targets) t.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const t of this.targets) t.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.shutdown()));
  }
}

interface TracingState {
  provider: NodeTracerProvider;
  fanOut: ExporterFanOut;
  /** Where spans are sent (undefined: nowhere). */
  endpoint?: string;
}

let state: TracingState | undefined;

/**
 * Installs the process's tracer provider, W3C propagator and async context once (later calls
 * return the same state). An OTLP exporter is added only when an endpoint is configured.
 */
export function ensureTracing(settings: TracingSettings = tracingFromEnv()): TracingState {
  if (state) return state;
  // The SDK is loaded on first use, so modules that only log (lib/logger.ts) stay light.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const fanOut = new ExporterFanOut();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [fanOut],
  });
  // Installs the AsyncLocalStorage context manager and the W3C trace-context + baggage propagators.
  provider.register();
  state = { provider, fanOut };
  if (settings.otlpTracesUrl) {
    // Loaded only when used: nothing of the exporter is on the start-up path otherwise.
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    fanOut.targets.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.otlpTracesUrl })));
    state.endpoint = settings.otlpTracesUrl;
  }
  return state;
}

/** Adds an exporter (tests use an in-memory one); spans are handed over as each one ends. */
export function addSpanExporter(exporter: SpanExporter): void {
  const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  ensureTracing().fanOut.targets.push(new SimpleSpanProcessor(exporter));
}

/** True when some exporter receives spans (database spans are only made then). */
export function tracesExported(): boolean {
  return (state?.fanOut.targets.length ?? 0) > 0;
}

/** Sends buffered spans now and stops the exporters (entry points call it on shutdown). */
export async function shutdownTracing(): Promise<void> {
  await state?.provider.forceFlush().catch(() => undefined);
}

export function tracer() {
  return trace.getTracer(TRACER);
}

/** The trace id of the active span, or undefined outside any trace. */
export function currentTraceId(): string | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** `trace_id` and `span_id` of the active span, for log lines. */
export function currentTraceFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** Writes `traceparent` (and `tracestate`) of the active context into outgoing headers. */
export function injectTraceContext(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers);
}

/**
 * Express middleware: continues the caller's trace (W3C `traceparent`) or starts one, and runs the
 * rest of the request inside a SERVER span named `<service> <METHOD> <path>`. Mount it after body
 * parsing (body parsers resume on the socket's context, not the request's).
 */
export function serverSpanMiddleware(service: string): express.RequestHandler {
  ensureTracing();
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${service} ${req.method} ${req.baseUrl || req.path}`,
      { kind: SpanKind.SERVER, attributes: { 'service.component': service, 'http.request.method': req.method, 'url.path': req.baseUrl || req.path } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Runs `fn` inside a CLIENT span (a subgraph fetch); the span ends when `fn` settles. */
export async function withClientSpan<T>(name: string, attributes: Attributes, fn: (span: Span, ctx: Context) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, context.active());
  const ctx = trace.setSpan(context.active(), span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
