// A server span for each request, the root of a notification's trace (or a child of the caller's, from
// its `traceparent`). Named and labelled by the route pattern, never the path: paths carry tokens.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { routePattern, trackRoutePattern } from '../platform/metrics.js';

const tracer = trace.getTracer('herald-api');

export const traceRequests: RequestHandler = (req, res, next) => {
  trackRoutePattern(req);
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(
    req.method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
    parent,
  );
  if (!span.isRecording()) return next();
  const end = () => {
    const route = routePattern(req);
    span.updateName(`${req.method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  res.once('finish', end);
  res.once('close', () => res.writableFinished || end());
  context.with(trace.setSpan(parent, span), next);
};
