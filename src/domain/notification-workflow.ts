// Starting a notification's workflow: the API after recording a notification, and the reconciler for a
// recorded one whose start may not have happened. Both use the same workflow id, so a start that did
// happen is found, never doubled.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  NOTIFICATIONS_QUEUE,
  SEARCH_ATTRIBUTES,
  urgentQueue,
  type NotificationInput,
} from '../workflows/definitions.js';
import { notificationWorkflow } from '../workflows/index.js';
import { temporalPriorityFor, type NotificationPriority } from '../workflows/priority.js';

/** Bounded, so a caller learns of an outage in seconds rather than after the client's own retries. */
export const START_DEADLINE_MS = 10_000;

/** `started`: this call started the run; `existing`: a run with this id exists or ended within retention. */
export type StartOutcome = 'started' | 'existing';

export async function startNotificationWorkflow(
  temporal: Client,
  input: NotificationInput,
  workflowId: string,
  requestId: string,
  /** The notification's priority and who sent it: the run's Temporal priority and fairness key. */
  dispatch: { priority: NotificationPriority; source: string | null },
): Promise<StartOutcome> {
  try {
    await temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      temporal.workflow.start(notificationWorkflow, {
        // High priority runs on the urgent queues' own workers, out of any campaign's way.
        taskQueue: dispatch.priority === 'high' ? urgentQueue(NOTIFICATIONS_QUEUE) : NOTIFICATIONS_QUEUE,
        workflowId,
        args: [input],
        // A closed run with this id is never started again: a cancelled or finished notification stays so.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Its workflow tasks, and by inheritance its delivery activities on every channel's queue.
        priority: temporalPriorityFor(dispatch),
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.NotificationId, value: input.notificationId },
          { key: SEARCH_ATTRIBUTES.UserId, value: input.userId },
          { key: SEARCH_ATTRIBUTES.Category, value: input.category },
          { key: SEARCH_ATTRIBUTES.DeliveryStatus, value: input.sendAt ? 'scheduled' : 'accepted' },
        ],
        memo: {
          requestId,
          summary: `${input.category} notification for user ${input.userId}`,
        },
      }),
    );
    return 'started';
  } catch (error) {
    // The conflict policy is left at "fail" so that a run already there says so, here.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'existing';
    throw error;
  }
}

/** The workflow's input, as the notification's row holds it. */
export function notificationInputFor(row: {
  id: string;
  userId: string;
  category: string;
  channels: NotificationInput['channels'];
  sendAt: Date | null;
  fallback: boolean;
  ack?: boolean;
  flowKey?: string | null;
  flowVersion?: number | null;
  flowStartStep?: number | null;
}): NotificationInput {
  const flow =
    row.flowKey && row.flowVersion
      ? {
          key: row.flowKey,
          version: row.flowVersion,
          ...(row.flowStartStep ? { startStep: row.flowStartStep } : {}),
        }
      : undefined;
  return {
    ...(flow ? { flow } : {}),
    notificationId: row.id,
    userId: row.userId,
    category: row.category,
    channels: row.channels,
    sendAt: row.sendAt?.toISOString(),
    fallback: row.fallback,
    // Only when asked: the input of a notification without it stays as it always was.
    ...(row.ack ? { ack: true } : {}),
  };
}
