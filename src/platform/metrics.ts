// Prometheus metrics: one registry per process, served at GET /metrics on a listener of its own:
// API_METRICS_PORT for the API (never its public port), WORKER_METRICS_PORT for the worker. Metric names and labels are a public interface (dashboards, alerts): keep them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChannelName } from '../workflows/definitions.js';

export const registry = new Registry();
// Process metrics (herald_process_resident_memory_bytes, herald_process_cpu_seconds_total,
// herald_nodejs_eventloop_lag_seconds, ...), for capacity planning and benchmarks.
collectDefaultMetrics({ register: registry, prefix: 'herald_' });

const httpRequestDuration = new Histogram({
  name: 'herald_http_request_duration_seconds',
  help: 'API request latency, by method, Express route pattern (or "unmatched") and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const notificationsAccepted = new Counter({
  name: 'herald_notifications_accepted_total',
  help: 'Notifications newly accepted (an idempotent replay is not counted), by category',
  labelNames: ['category'] as const,
  registers: [registry],
});

const deliveries = new Counter({
  name: 'herald_deliveries_total',
  help: 'Deliveries that ended, by channel and outcome (sent, transient_failure, permanent_failure, skipped, cancelled)',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

/** The route label for requests that matched no route, or were refused before routing (401, 429). */
export const UNMATCHED_ROUTE = 'unmatched';

const patterns = new WeakMap<Request, { pattern: string }>();

/**
 * Follows which route pattern (`/preferences/:token`) the request matches, never its raw path: paths
 * carry secrets (preference, unsubscribe and codec tokens). Express forgets a router's mount path once
 * an error leaves it, so the pattern is taken at the moment Express matches the route. Idempotent.
 */
export function trackRoutePattern(req: Request): void {
  if (patterns.has(req)) return;
  const state = { pattern: UNMATCHED_ROUTE };
  patterns.set(req, state);
  let route: typeof req.route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: typeof req.route) {
      route = value;
      if (value) state.pattern = req.baseUrl + String(value.path);
    },
  });
}

/** The full route pattern the request matched (mount path included), or `unmatched`: safe to log. */
export function routePattern(req: Request): string {
  return patterns.get(req)?.pattern ?? UNMATCHED_ROUTE;
}

/**
 * Times every request, labelled with the full route pattern (`/v1/notifications/:id`), never the raw
 * path.
 */
export const observeRequests: RequestHandler = (req, res, next) => {
  const started = process.hrtime.bigint();
  trackRoutePattern(req);
  // 'close', not 'finish': a response the client walked away from (an event stream) counts too.
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    httpRequestDuration.observe(
      { method: req.method, route: routePattern(req), status: res.statusCode },
      seconds,
    );
  });
  next();
};

/** Categories are the callers' own words: past this many, new ones are counted together. */
const MAX_CATEGORIES = 100;
/** Cannot clash with a real category, which starts with a letter or digit. */
const OTHER_CATEGORY = '_other';
const seenCategories = new Set<string>();

export function countAcceptedNotification(category: string): void {
  if (seenCategories.size < MAX_CATEGORIES) seenCategories.add(category);
  notificationsAccepted.inc({ category: seenCategories.has(category) ? category : OTHER_CATEGORY });
}

/**
 * How a delivery ended. `skipped`: nothing was sent and no provider refused: the channel was left out
 * when planning (no address, opted out), the delivery was already sent, or the notification is gone.
 * `cancelled`: its attempt did not open because the notification's broadcast was cancelled (kept apart
 * from `skipped` so a cancelled campaign shows as such rather than as opt-outs or missing addresses).
 */
export type DeliveryOutcome = 'sent' | 'transient_failure' | 'permanent_failure' | 'skipped' | 'cancelled';

export function countDelivery(channel: ChannelName, outcome: DeliveryOutcome): void {
  deliveries.inc({ channel, outcome });
}

/** The registry in Prometheus' text exposition format, with its content type. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface MetricsServer {
  /** Where Prometheus scrapes, such as http://127.0.0.1:9464/metrics. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A bare HTTP server with GET /metrics: the API's (apart from its public port) and the worker's. */
export async function serveMetrics({ host, port }: { host: string; port: number }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n');
      return;
    }
    exposition().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const hostname = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostname}:${bound}/metrics`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
