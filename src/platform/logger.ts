import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/** The active span's ids, as OpenTelemetry's log data model names them; none outside a trace. */
function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: `0${context.traceFlags.toString(16)}`,
  };
}

/** Structured JSON logs. Secrets and personal data are redacted wherever they may appear. */
export function createLogger(
  name: string,
  /** LOG_LEVEL as the configuration read it (info unless set). */
  level: string,
  /** Where the lines go; standard output when unset (tests capture them here). */
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    // With tracing on, each line names the trace it belongs to, so a trace leads to its log lines.
    mixin: traceFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'apiKey',
        'email',
        'phone',
        'body',
        '*.email',
        '*.phone',
        '*.body',
        // A user's contacts on every channel, and a contact row's address.
        'contacts',
        '*.contacts',
        'address',
        '*.address',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
