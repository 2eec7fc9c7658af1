// The floor's workers: one per floor queue, all on one connection, with the tuning Herald's own worker
// process gets from the same configuration (src/workers/tuning.ts).
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { Config } from '../../src/platform/config.js';
import { workerTuning } from '../../src/workers/tuning.js';
import { FLOOR_QUEUES, type FloorActivities } from './workflows.js';

export async function createFloorWorkers(
  connection: NativeConnection,
  config: Config,
  bundlePath: string,
): Promise<Worker[]> {
  const activities: FloorActivities = { noop: async () => undefined };
  const tuning = workerTuning(config);
  const { namespace } = config.temporal;
  return [
    await Worker.create({
      connection,
      namespace,
      taskQueue: FLOOR_QUEUES.workflow,
      workflowBundle: { codePath: bundlePath },
      activities,
      ...tuning.workflowQueue,
    }),
    ...(await Promise.all(
      FLOOR_QUEUES.channels.map((taskQueue) =>
        Worker.create({ connection, namespace, taskQueue, activities, ...tuning.channelQueue }),
      ),
    )),
  ];
}
