import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DefaultLogger,
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { failureConverterPath, heraldDataConverter } from '../platform/codec.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { acknowledgementLinksFromConfig } from '../domain/acknowledgement-links.js';
import {
  createDeliveryActivities,
  createNotificationActivities,
  createWebhookActivities,
} from '../activities/index.js';
import { configuredChannels, createChannels, type ChannelRegistry } from '../activities/channels/registry.js';
import { NOTIFICATIONS_QUEUE, channelQueue, urgentQueue } from '../workflows/definitions.js';
import { CHANNELS } from '../activities/channels/registry.js';
import { WEBHOOKS_QUEUE } from '../workflows/webhooks.js';
import { workerTuning } from './tuning.js';
import { temporalActivityInterceptors, workflowSpanSinks } from '../platform/telemetry.js';

export const ALL_QUEUES = [NOTIFICATIONS_QUEUE, ...CHANNELS, WEBHOOKS_QUEUE] as const;
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
  /** A client for the reconciler, which starts notification workflows left unstarted. */
  temporal: Client;
  db: Db;
  queues: readonly QueueName[];
  /** A prebuilt bundle (tests share one); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  logger?: Logger;
  /** Extra CA certificates (PEM) the channel providers trust. */
  ca?: string;
}

const require = createRequire(import.meta.url);
/** `.ts` run from source (tsx), `.js` compiled (`npm run build`, dist/): the workflow entry beside this file. */
const codeExtension = path.extname(import.meta.url);
export const workflowsPath = require.resolve(`../workflows/index${codeExtension}`);

/**
 * Workflow interceptors compiled into every bundle: Temporal's OpenTelemetry interceptors, which trace the
 * workflow and pass the context to its activities. While tracing is off their spans go nowhere.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** Where `npm run build` writes the workflow bundle: dist/workflow-bundle.js, beside the compiled code. */
const builtWorkflowBundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/**
 * Bundles the workflow code ahead of time into `file` (the Dockerfile, the benchmark and the chaos suite),
 * so a worker started with WORKFLOW_BUNDLE_PATH skips webpack. The bundle always carries Herald's failure
 * converter: whether CODEC_KEYS will be set is not known here, and it moves failure messages into a
 * payload that the worker's codec encrypts when there is one and that stays plain JSON when there is not.
 * Returns the bundle's size in bytes.
 */
export async function writeWorkflowBundle(file: string): Promise<number> {
  const { code } = await bundleWorkflows();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, code);
  return code.length;
}

/** The workflow code as one bundle, with the interceptors and the failure converter compiled in. */
function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath,
    logger: new DefaultLogger('WARN'),
  });
}

/**
 * The prebuilt workflow bundle the worker runs: the file WORKFLOW_BUNDLE_PATH names (the image sets it), else
 * the one `npm run build` put beside the compiled code (dist/workflow-bundle.js); undefined (run from
 * source, nothing built): bundle at start.
 */
export function prebuiltWorkflowBundle(config: Config): WorkerOptions['workflowBundle'] {
  if (config.worker.workflowBundlePath) return { codePath: path.resolve(config.worker.workflowBundlePath) };
  const compiled = codeExtension === '.js';
  return compiled && existsSync(builtWorkflowBundle) ? { codePath: builtWorkflowBundle } : undefined;
}

/**
 * One Temporal worker per task queue this process serves, and one for each queue's urgent twin
 * (src/workflows/definitions.ts, URGENT_SUFFIX), all on one connection. The twin has slots of its own:
 * that is the point of it.
 */
export async function createWorkers(setup: WorkerSetup): Promise<HeraldWorkers> {
  const { config, connection, db, queues } = setup;
  const namespace = config.temporal.namespace;
  // Payload codecs run here, outside the workflow sandbox; the failure converter also goes into a bundle
  // built at start (a prebuilt bundle names it itself).
  const dataConverter = heraldDataConverter(config.codec);
  const logger = setup.logger ?? createLogger('worker', 'silent');
  const configured = configuredChannels(config);
  // Providers only for the channel queues served here; createChannels skips unconfigured ones.
  const channels = createChannels(
    config,
    { db, logger, ca: setup.ca },
    CHANNELS.filter((c) => queues.includes(c)),
  );
  const workers: Worker[] = [];
  const idle: HeraldWorkers['idle'] = [];
  // Concurrency and workflow cache from the configuration (WORKER_* variables).
  const tuning = workerTuning(config);
  // Tracing (src/platform/telemetry.ts): each activity attempt is a span under its workflow's.
  const interceptors = { activity: temporalActivityInterceptors() };

  if (queues.includes(NOTIFICATIONS_QUEUE)) {
    const activities = createNotificationActivities({
      db,
      temporal: setup.temporal,
      logger,
      configuredChannels: configured,
      mandatoryCategories: config.delivery.mandatoryCategories,
      inboxRetentionMs: config.inbox.retentionMs,
      historyRetentionMs: config.history.retentionMs,
      fanOutWindow: config.worker.fanOutWindow,
      settings: {
        retry: config.delivery.retryPolicies,
        retryWindowMs: config.delivery.retryWindowMs,
        webhookRetryForMs: config.webhooks.retryForMs,
      },
    });
    // Bundled once for both queues' workers when nothing was bundled ahead of time.
    const workflowBundle = setup.workflowBundle ?? (await bundleWorkflows());
    for (const taskQueue of [NOTIFICATIONS_QUEUE, urgentQueue(NOTIFICATIONS_QUEUE)])
      workers.push(
        await Worker.create({
          connection,
          namespace,
          dataConverter,
          taskQueue,
          ...tuning.workflowQueue,
          workflowBundle,
          interceptors,
          sinks: workflowSpanSinks(),
          activities,
        }),
      );
  }
  const deliveryActivities = createDeliveryActivities(db, channels, {
    defaultLocale: config.defaultLocale,
    acknowledgementLinks: acknowledgementLinksFromConfig(config),
  });
  for (const channel of CHANNELS.filter((c) => queues.includes(c))) {
    if (!channels[channel]) {
      idle.push({ queue: channel, reason: `no ${channel} provider is configured` });
      continue;
    }
    for (const taskQueue of [channelQueue(channel), urgentQueue(channelQueue(channel))])
      workers.push(
        await Worker.create({
          connection,
          namespace,
          dataConverter,
          taskQueue,
          ...tuning.channelQueue,
          interceptors,
          activities: deliveryActivities,
          // Providers throttle (Telegram about 30/s per bot): the limit holds across every worker on the
          // queue, and each of the twins has it (urgent sends are few, and a provider's 429 is retried).
          maxTaskQueueActivitiesPerSecond: config.delivery.rateLimits[channel],
        }),
      );
  }
  if (queues.includes(WEBHOOKS_QUEUE)) {
    workers.push(
      await Worker.create({
        connection,
        namespace,
        dataConverter,
        taskQueue: WEBHOOKS_QUEUE,
        ...tuning.channelQueue,
        interceptors,
        activities: createWebhookActivities({
          db,
          logger,
          timeoutMs: config.webhooks.timeoutMs,
          outbound: config.outbound,
        }),
      }),
    );
  }
  return { workers, channels, idle };
}
