// HTTP API process.
import { loadConfigOrExit, logStartupWarnings } from '../platform/config.js';
import { createDb } from '../store/db.js';
import { createLogger } from '../platform/logger.js';
import { serveMetrics } from '../platform/metrics.js';
import { startTelemetry } from '../platform/telemetry.js';
import { connectTemporalClient } from '../platform/temporal-client.js';
import { createApp } from './app.js';
import { codecServerOptions } from './codec.js';
import { preferenceCenterOptions } from './preference-center.js';
import { twilioStatusOptions } from './twilio.js';
import { createInboxHub } from './inbox/hub.js';
import { inboxOptions } from './inbox/routes.js';

const config = loadConfigOrExit();
// Before the Temporal client and the app: traces start at the request (docs/operations.md#tracing).
const telemetry = startTelemetry('herald-api');
const logger = createLogger('api', config.logLevel);
logStartupWarnings(config, logger);
const db = createDb(config.databaseUrl, { max: config.databasePoolSize });
const temporal = await connectTemporalClient(config);
const inbox = inboxOptions(config);
// The inbox's streams in this process, told of changes by any process through LISTEN/NOTIFY.
const inboxHub = inbox && createInboxHub({ db, databaseUrl: config.databaseUrl, logger });
const app = createApp({
  db,
  temporal,
  logger,
  apiKeys: config.apiKeys,
  vapidPublicKey: config.vapid.publicKey,
  rateLimit: config.api.rateLimit,
  telegram: config.telegram,
  codecServer: codecServerOptions(config),
  preferenceCenter: preferenceCenterOptions(config),
  outbound: config.outbound,
  twilioStatus: twilioStatusOptions(config),
  inbox: inbox && inboxHub && { ...inbox, hub: inboxHub },
  categoryPriorities: config.categoryPriorities,
});

const server = app.listen(config.port, () => {
  logger.info({ port: config.port }, `API listening on http://127.0.0.1:${config.port}`);
});
// Prometheus scrapes a listener of its own (API_METRICS_PORT), never the public port.
const metrics = config.api.metrics ? await serveMetrics(config.api.metrics) : undefined;
if (metrics) logger.info({ url: metrics.url }, 'serving Prometheus metrics');

/** A request still running this long after SIGTERM is cut, so the API exits before docker's 10 s SIGKILL. */
const DRAIN_TIMEOUT_MS = 9_000;

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, 'draining in-flight requests');
  const closed = new Promise((resolve) => server.once('close', resolve));
  server.close();
  // Open inbox streams would hold the server open: they end now, and their clients reconnect elsewhere.
  await inboxHub?.close();
  server.closeIdleConnections();
  setTimeout(() => {
    logger.warn('in-flight requests did not finish in time: closing their connections');
    server.closeAllConnections();
    // A query still waiting in PostgreSQL holds the pool open: exit without it.
    setTimeout(() => process.exit(1), 1000).unref();
  }, DRAIN_TIMEOUT_MS).unref();
  await closed;
  if (metrics) await metrics.close();
  await temporal.connection.close();
  await db.$disconnect();
  await telemetry.shutdown();
  logger.info('API stopped');
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
