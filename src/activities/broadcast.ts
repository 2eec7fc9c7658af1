// The broadcast's side effects: a batch of recipients recorded and started, the cancel of what has not
// been sent, and the broadcast's end.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { uuidV5 } from '../platform/uuid.js';
import {
  cancelUnstartedNotification,
  countAcceptedRecipients,
  insertRecipientNotifications,
  openRecipientNotifications,
  recordBroadcastEnd,
  recordBroadcastStarted,
  snapshotPage,
} from '../store/broadcasts.js';
import { notificationInputFor, startNotificationWorkflow } from '../domain/notification-workflow.js';
import { cancelUpdate, workflowIdFor } from '../workflows/definitions.js';
import { eachBounded } from '../platform/bounded.js';
import { DEFAULT_FAN_OUT_WINDOW, FanOutWindow } from './fan-out-window.js';

export interface BroadcastBatchInput {
  broadcastId: string;
  /** The last subscription id of the previous batch ('0' at the start). */
  after: string;
  limit: number;
  /** Notifications the broadcast started before this batch. */
  startedBefore: number;
}

export interface BroadcastBatchResult {
  /** Recipients of this batch whose notification is recorded and started. */
  count: number;
  /** Where the next batch begins. */
  cursor: string;
  /** The snapshot has no more subscriptions. */
  done: boolean;
}

/** Starts (or finds started) this many notification workflows at a time. */
const START_CONCURRENCY = 64;
/** Open notifications cancelled at a time when a broadcast is cancelled. */
const CANCEL_CONCURRENCY = 32;
const CANCEL_PAGE = 500;
/** One recipient's cancel update may wait this long for its workflow (a failure retries the activity). */
const UPDATE_DEADLINE_MS = 30_000;
const HEARTBEAT_EVERY_MS = 5_000;

/** A recipient's notification id: the same for the same broadcast and user, however often a batch runs. */
export const recipientNotificationId = (broadcastId: string, userId: string): string =>
  uuidV5(userId, broadcastId);

export function createBroadcastActivities(deps: {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** FAN_OUT_WINDOW: started recipients that may wait for their first step at once. */
  fanOutWindow?: number;
}) {
  const { db, temporal, logger } = deps;

  async function startBroadcastBatch(input: BroadcastBatchInput): Promise<BroadcastBatchResult> {
    const context = Context.current();
    const page = await snapshotPage(db, {
      broadcastId: input.broadcastId,
      after: input.after,
      limit: input.limit,
    });
    const recipients = page.map(({ userId }) => {
      const id = recipientNotificationId(input.broadcastId, userId);
      return { id, userId, workflowId: workflowIdFor(id) };
    });
    const requestId = `broadcast-${input.broadcastId}`;
    const notifications = recipients.length
      ? await insertRecipientNotifications(db, input.broadcastId, recipients, requestId)
      : [];
    let started = 0;
    const cancelled = () => context.cancellationSignal.aborted;
    // Paced: the broadcast's `accepted` rows less this batch's not yet started are the started
    // recipients still waiting for their first step.
    let unstartedAccepted = notifications.filter((n) => n.status === 'accepted').length;
    const window = new FanOutWindow({
      size: deps.fanOutWindow ?? DEFAULT_FAN_OUT_WINDOW,
      countWaiting: async () => (await countAcceptedRecipients(db, input.broadcastId)) - unstartedAccepted,
      signal: context.cancellationSignal,
      whileHeld: () => context.heartbeat(started),
    });
    await eachBounded(
      notifications,
      START_CONCURRENCY,
      async (notification) => {
        // A notification that moved on has (or had) its run; one cancelled or ended must not start again.
        if (notification.status === 'accepted' || notification.status === 'scheduled') {
          if (!(await window.admit())) return;
          if (notification.status === 'accepted') unstartedAccepted -= 1;
          await startNotificationWorkflow(
            temporal,
            notificationInputFor(notification),
            notification.workflowId,
            requestId,
            notification,
          );
        }
        started += 1;
        context.heartbeat(started);
      },
      cancelled,
    );
    // Throws the cancellation: the workflow's cleanup runs after this batch stopped starting notifications.
    if (cancelled()) throw context.cancellationSignal.reason;
    const total = input.startedBefore + notifications.length;
    await recordBroadcastStarted(db, input.broadcastId, total);
    const last = page[page.length - 1];
    return {
      count: notifications.length,
      cursor: last ? last.subscriptionId : input.after,
      done: page.length < input.limit,
    };
  }

  /**
   * Records the broadcast as cancelled (if it was not yet: from then on no recipient's delivery starts),
   * then cancels every recipient's notification that has not ended, each through its workflow's cancel
   * update, so its status ends `cancelled` and its timers (sendAt, quiet hours, a retry window) are not
   * left waiting. One recorded but never started is cancelled in its row. Runs after the cancel was
   * answered; its time grows with the audience.
   */
  async function cancelBroadcastRecipients(input: { broadcastId: string; reason: string }): Promise<number> {
    const context = Context.current();
    let after: string | null = null;
    let cancelled = 0;
    await recordBroadcastEnd(db, input.broadcastId, 'cancelled');
    // Beats while updates wait on busy workflows too: slow is not dead.
    const beat = setInterval(() => context.heartbeat(cancelled), HEARTBEAT_EVERY_MS);
    try {
      await cancelAll();
    } finally {
      clearInterval(beat);
    }
    logger.info({ broadcastId: input.broadcastId, cancelled }, "broadcast's recipients cancelled");
    return cancelled;

    async function cancelAll(): Promise<void> {
      for (;;) {
        const page = await openRecipientNotifications(db, {
          broadcastId: input.broadcastId,
          after,
          limit: CANCEL_PAGE,
        });
        await eachBounded(
          page,
          CANCEL_CONCURRENCY,
          async (notification) => {
            try {
              // Bounded: a worker shutting down cancels this activity, and it must not hang on one update.
              await temporal.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
                temporal.workflow
                  .getHandle(notification.workflowId)
                  .executeUpdate(cancelUpdate, { args: [{ reason: input.reason }] }),
              );
              cancelled += 1;
            } catch (error) {
              if (error instanceof WorkflowNotFoundError)
                await cancelUnstartedNotification(db, notification.id, input.reason);
              // Refused: it is already closing or ended. Anything else is retried with the whole activity.
              else if (!(error instanceof WorkflowUpdateFailedError) && !isClosedWorkflowError(error))
                throw error;
            }
            context.heartbeat(cancelled);
          },
          () => context.cancellationSignal.aborted,
        );
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        if (page.length < CANCEL_PAGE) return;
        after = page[page.length - 1]!.id;
      }
    }
  }

  async function recordBroadcastEndActivity(input: {
    broadcastId: string;
    status: 'started' | 'cancelled';
  }): Promise<void> {
    await recordBroadcastEnd(db, input.broadcastId, input.status);
  }

  return { startBroadcastBatch, cancelBroadcastRecipients, recordBroadcastEnd: recordBroadcastEndActivity };
}
export type BroadcastActivities = ReturnType<typeof createBroadcastActivities>;

// An update sent to a closed workflow fails with gRPC NOT_FOUND ("workflow execution already completed").
const isClosedWorkflowError = (error: unknown): boolean =>
  /already completed|not found/i.test((error as Error)?.message ?? '');
