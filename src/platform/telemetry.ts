// OpenTelemetry tracing: one trace per notification, from the API's request through the workflow start,
// the workflow, each activity and each provider call. Temporal's interceptors carry the trace context in
// workflow and activity headers. Off unless the standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER); the exporters, the sampler and the resource
// read the other OTEL_* variables themselves. Spans never carry personal data (see redact below).
import { SpanKind, SpanStatusCode, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource, detectResourcesSync, envDetectorSync } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { InjectedSinks } from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { WorkflowClientInterceptor } from '@temporalio/client';

export interface Telemetry {
  enabled: boolean;
  /** Exports the spans buffered so far. */
  flush(): Promise<void>;
  /** Ends tracing: exports the spans still buffered. */
  shutdown(): Promise<void>;
}

const set = (value: string | undefined) => value !== undefined && value.trim() !== '';

let spanProcessor: SpanProcessor = new NoopSpanProcessor();
let resource = Resource.empty();

/** The exporters OTEL_TRACES_EXPORTER names (`otlp` when only an endpoint is set); `none` exports nothing. */
function exporters(): SpanExporter[] {
  const names = (process.env.OTEL_TRACES_EXPORTER || 'otlp').split(',').map((n) => n.trim());
  const protocol =
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf';
  return names.flatMap((name): SpanExporter[] => {
    if (name === 'none' || name === '') return [];
    if (name === 'console') return [new ConsoleSpanExporter()];
    if (name !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER: "${name}" is not otlp, console or none`);
    if (protocol === 'http/protobuf') return [new OtlpProtobufExporter()];
    if (protocol === 'http/json') return [new OtlpJsonExporter()];
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not http/protobuf or http/json (no gRPC)`);
  });
}

/**
 * Starts tracing for this process when configured, named `service` unless OTEL_SERVICE_NAME says
 * otherwise. Call it first, before the Temporal client and workers are made.
 */
export function startTelemetry(service: string): Telemetry {
  const asked =
    set(process.env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    set(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    set(process.env.OTEL_TRACES_EXPORTER);
  if (!asked || process.env.OTEL_SDK_DISABLED === 'true')
    return { enabled: false, flush: async () => undefined, shutdown: async () => undefined };
  resource = new Resource({ [ATTR_SERVICE_NAME]: service }).merge(
    detectResourcesSync({ detectors: [envDetectorSync] }),
  );
  const processors = exporters().map((exporter) => new BatchSpanProcessor(exporter));
  spanProcessor = redacting(processors);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Also the AsyncLocalStorage context manager and W3C trace context (traceparent) propagation.
  provider.register();
  return { enabled: true, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

/** Temporal's client interceptor: a span for each workflow start or signal, its context in the headers. */
export const temporalClientInterceptors = (): WorkflowClientInterceptor[] => [
  new OpenTelemetryWorkflowClientInterceptor(),
];

/** Temporal's activity interceptors: a span for each activity attempt, under the workflow's. */
export const temporalActivityInterceptors = (): ActivityInterceptorsFactory[] => [
  (ctx) => ({
    inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
    outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
  }),
];

/**
 * The sink the workflow interceptors (always in the workflow bundle) send their spans to: the process's
 * exporters, or nowhere while tracing is off. The workflow's info comes along as attributes; its objects
 * (memo, search attributes, failures) are dropped there.
 */
export const workflowSpanSinks = (): InjectedSinks<OpenTelemetrySinks> => ({
  exporter: makeWorkflowExporter(
    {
      onStart: () => undefined,
      onEnd: (span) => spanProcessor.onEnd(span),
      forceFlush: () => spanProcessor.forceFlush(),
      shutdown: async () => undefined,
    },
    resource,
  ),
});

/** Runs one call to a provider (an SMTP server, an HTTP API) in a span of its own; errors by type only. */
export async function providerCall<T>(
  name: string,
  attributes: Attributes,
  call: () => Promise<T>,
): Promise<T> {
  return trace
    .getTracer('herald')
    .startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await call();
      } catch (error) {
        // No message: a provider's refusal may quote the address it refused.
        span.setAttribute('error.type', errorType(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
}

const errorType = (error: unknown): string => {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  return typeof code === 'string' ? code : typeof name === 'string' ? name : 'Error';
};

const EMAIL = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[A-Za-z]{2,}/g;
// E.164, as Herald keeps numbers: a bare run of digits is more likely an id or a time.
const PHONE = /\+\d{8,15}\b/g;
const scrub = (text: string) => text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');

function cleanAttributes(attributes: Attributes): void {
  for (const [key, value] of Object.entries(attributes)) {
    const primitive = (v: unknown) => ['string', 'number', 'boolean'].includes(typeof v);
    // Only primitives (and lists of them) are attributes; an object is a workflow's memo or failure.
    if (!(primitive(value) || (Array.isArray(value) && value.every(primitive)))) delete attributes[key];
    else if (typeof value === 'string') attributes[key] = scrub(value);
    else if (Array.isArray(value))
      attributes[key] = value.map((v: unknown) => (typeof v === 'string' ? scrub(v) : v)) as AttributeValue;
  }
}

/**
 * Before export, every span (Herald's, and Temporal's with their exception events) loses what could be
 * personal: object-valued attributes, and anything shaped like an email address or a phone number.
 */
function redacting(processors: SpanProcessor[]): SpanProcessor {
  return {
    onStart: (span, parent) => processors.forEach((p) => p.onStart(span, parent)),
    onEnd(span: ReadableSpan) {
      cleanAttributes(span.attributes);
      for (const event of span.events) if (event.attributes) cleanAttributes(event.attributes);
      if (span.status.message) span.status.message = scrub(span.status.message);
      processors.forEach((p) => p.onEnd(span));
    },
    forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
    shutdown: async () => void (await Promise.all(processors.map((p) => p.shutdown()))),
  };
}
