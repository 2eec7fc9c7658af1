import { createRequire } from 'node:module';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config.js';
import type { Db } from '../lib/db.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createDeliveryActivities, createNotificationActivities } from '../activities/index.js';
import { configuredChannels, createChannels, type ChannelRegistry } from '../activities/channels/index.js';
import { CHANNELS, NOTIFICATIONS_QUEUE, channelQueue } from '../workflows/definitions.js';

export const ALL_QUEUES = [NOTIFICATIONS_QUEUE, ...CHANNELS] as const;
export type QueueName = (typeof ALL_QUEUES)[number];

export interface HeraldWorkers {
  workers: Worker[];
  channels: ChannelRegistry;
  /** Queues asked for but not served, with the reason (a channel without a provider). */
  idle: { queue: QueueName; reason: string }[];
}

export interface WorkerSetup {
  config: Config;
  connection: NativeConnection;
  db: Db;
  queues: readonly QueueName[];
  /** A prebuilt bundle (tests share one); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  logger?: Logger;
  /** Extra CA certificates (PEM) the channel providers trust. */
  ca?: string;
}

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../workflows/index.ts');

/** One Temporal worker per task queue this process serves, all on one connection. */
export async function createWorkers(setup: WorkerSetup): Promise<HeraldWorkers> {
  const { config, connection, db, queues } = setup;
  const namespace = config.temporal.namespace;
  const configured = configuredChannels(config);
  // Providers only for the channel queues served here; createChannels skips unconfigured ones.
  const channels = createChannels(
    config,
    { db, logger: setup.logger ?? createLogger('worker', 'silent'), ca: setup.ca },
    CHANNELS.filter((c) => queues.includes(c)),
  );
  const workers: Worker[] = [];
  const idle: HeraldWorkers['idle'] = [];

  if (queues.includes(NOTIFICATIONS_QUEUE)) {
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: NOTIFICATIONS_QUEUE,
        ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath }),
        activities: createNotificationActivities({
          db,
          configuredChannels: configured,
          mandatoryCategories: config.delivery.mandatoryCategories,
          settings: {
            retry: config.delivery.retryPolicies,
            retryWindowMs: config.delivery.retryWindowMs,
          },
        }),
      }),
    );
  }
  const deliveryActivities = createDeliveryActivities(db, channels, { defaultLocale: config.defaultLocale });
  for (const channel of CHANNELS.filter((c) => queues.includes(c))) {
    if (!channels[channel]) {
      idle.push({ queue: channel, reason: `no ${channel} provider is configured` });
      continue;
    }
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: channelQueue(channel),
        activities: deliveryActivities,
        // Providers throttle (Telegram about 30/s per bot): the limit holds across every worker on the queue.
        maxTaskQueueActivitiesPerSecond: config.delivery.rateLimits[channel],
      }),
    );
  }
  return { workers, channels, idle };
}
