// The floor: bare workflows with no-op activities on the same queue layout as Herald's (a workflow
// queue, and one queue per channel), so Herald's throughput can be read as a share of Temporal's own.
// Workflow code: it runs in the sandbox, like src/workflows.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

export const FLOOR_QUEUES = {
  workflow: 'floor-notifications',
  channels: ['floor-email', 'floor-push', 'floor-telegram'],
} as const;

export interface FloorActivities {
  noop(): Promise<void>;
}

const options = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second' } } as const;
const onQueue = (taskQueue: string) => proxyActivities<FloorActivities>({ ...options, taskQueue }).noop;

/** Three no-op activities in parallel, one on each channel queue: the deliveries alone. */
export async function floorWorkflow(): Promise<void> {
  await Promise.all(FLOOR_QUEUES.channels.map((queue) => onQueue(queue)()));
}

/**
 * Herald's shape: a no-op before (resolveRecipient) and after (completeNotification) on the workflow
 * queue, and the three deliveries in parallel between them.
 */
export async function floorShapeWorkflow(): Promise<void> {
  await onQueue(FLOOR_QUEUES.workflow)();
  await Promise.all(FLOOR_QUEUES.channels.map((queue) => onQueue(queue)()));
  await onQueue(FLOOR_QUEUES.workflow)();
}

/**
 * Herald's shape with the two orchestration steps as local activities: they run in the workflow's
 * worker and leave a marker in history instead of a round trip through a task queue.
 */
export async function floorShapeLocalWorkflow(): Promise<void> {
  const { noop } = proxyLocalActivities<FloorActivities>(options);
  await noop();
  await Promise.all(FLOOR_QUEUES.channels.map((queue) => onQueue(queue)()));
  await noop();
}

/** One no-op on the email queue: one delivery, nothing around it (the broadcast part's floor). */
export async function floorDeliveryWorkflow(): Promise<void> {
  await onQueue(FLOOR_QUEUES.channels[0])();
}
