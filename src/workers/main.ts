// Worker process: serves the task queues named in --queues (or HERALD_QUEUES), by default all of them.
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit, logStartupWarnings } from '../platform/config.js';
import { createDb } from '../store/db.js';
import { createLogger } from '../platform/logger.js';
import { serveMetrics } from '../platform/metrics.js';
import { closeChannels, configuredChannels } from '../activities/channels/registry.js';
import { installTemporalLogging } from '../platform/temporal-logging.js';
import { startTelemetry } from '../platform/telemetry.js';
import { connectTemporalClient } from '../platform/temporal-client.js';
import { NOTIFICATIONS_QUEUE } from '../workflows/definitions.js';
import { ensureReconcilerSchedule } from './reconciler-schedule.js';
import { ensureInboxRetentionSchedule } from './inbox-retention-schedule.js';
import { ensureHistoryRetentionSchedule } from './history-retention-schedule.js';
import { ALL_QUEUES, createWorkers, prebuiltWorkflowBundle, type QueueName } from './create-workers.js';
import { WORKER_DATABASE_POOL_SIZE } from './tuning.js';

const config = loadConfigOrExit();
// Before the workers: their workflow span sink sends to the exporters started here.
const telemetry = startTelemetry('herald-worker');
const logger = createLogger('worker', config.logLevel);
logStartupWarnings(config, logger);
installTemporalLogging(logger, config.logLevel === 'debug' || config.logLevel === 'trace' ? 'DEBUG' : 'WARN');

function parseQueues(): QueueName[] {
  const flag = process.argv.indexOf('--queues');
  const raw = flag >= 0 ? process.argv[flag + 1] : process.env.HERALD_QUEUES;
  if (!raw) return [...ALL_QUEUES];
  const queues = raw.split(',').map((q) => q.trim());
  const unknown = queues.filter((q) => !(ALL_QUEUES as readonly string[]).includes(q));
  if (unknown.length > 0) {
    console.error(`Unknown queue(s) ${unknown.join(', ')}; known: ${ALL_QUEUES.join(', ')}`);
    process.exit(64);
  }
  return queues as QueueName[];
}

const queues = parseQueues();
const db = createDb(config.databaseUrl, { max: config.databasePoolSize ?? WORKER_DATABASE_POOL_SIZE });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const temporal = await connectTemporalClient(config);
const { workers, channels, idle } = await createWorkers({
  config,
  connection,
  temporal,
  db,
  queues,
  logger,
  workflowBundle: prebuiltWorkflowBundle(config),
});
for (const { queue, reason } of idle) logger.warn({ queue }, `not serving queue ${queue}: ${reason}`);
logger.info(
  { queues: workers.map((w) => w.options.taskQueue), workflowBundle: config.worker.workflowBundlePath },
  'worker started',
);
if (queues.includes(NOTIFICATIONS_QUEUE)) {
  // The reconciler and retention matter, but less than delivering: a worker that cannot set them up still serves.
  await ensureReconcilerSchedule(temporal).then(
    (scheduleId) => logger.info({ scheduleId }, 'reconciler scheduled every minute'),
    (error: unknown) => logger.error({ err: error }, 'could not set up the reconciler schedule'),
  );
  if (configuredChannels(config).includes('in_app'))
    await ensureInboxRetentionSchedule(temporal).then(
      (scheduleId) => logger.info({ scheduleId }, 'inbox retention scheduled every hour'),
      (error: unknown) => logger.error({ err: error }, 'could not set up the inbox retention schedule'),
    );
  await ensureHistoryRetentionSchedule(temporal).then(
    (scheduleId) => logger.info({ scheduleId }, 'history retention scheduled every hour'),
    (error: unknown) => logger.error({ err: error }, 'could not set up the history retention schedule'),
  );
}
const metrics = config.worker.metrics ? await serveMetrics(config.worker.metrics) : undefined;
if (metrics) logger.info({ url: metrics.url }, 'serving Prometheus metrics');

try {
  // Temporal's runtime turns SIGINT/SIGTERM into a graceful shutdown of every worker.
  await Promise.all(workers.map((worker) => worker.run()));
} finally {
  if (metrics) await metrics.close();
  await closeChannels(channels);
  await temporal.connection.close();
  await connection.close();
  await db.$disconnect();
  await telemetry.shutdown();
  logger.info('worker stopped');
}
