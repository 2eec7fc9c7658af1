// Cancelling a broadcast: the fan-out stops (the broadcast workflow's cancel update), or, once every
// recipient has started, a cleanup workflow of its own cancels what has not been sent.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import {
  findBroadcast,
  recordBroadcastEnd,
  recordCancelReason,
  type BroadcastRow,
} from '../store/broadcasts.js';
import { NOTIFICATIONS_QUEUE, SEARCH_ATTRIBUTES } from '../workflows/definitions.js';
import { cancelBroadcastUpdate } from '../workflows/broadcast-definitions.js';
import { cancelStartedBroadcastWorkflow } from '../workflows/broadcast.js';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError } from './errors.js';
import { actOnNotification, type NotificationReach } from './notifications.js';
import { broadcastView } from './broadcasts.js';
import type { BroadcastResponse } from './topic-views.js';
import type { WorkflowStatusResponse } from './views.js';

/**
 * A cancel waits for the fan-out's running batch to stop (it hears of the cancel with its next heartbeat,
 * within seconds), not for the recipients: the API's usual deadline is plenty.
 */
const CANCEL_DEADLINE_MS = 60_000;

/** Absent (undefined) when there is no such broadcast or the caller may not see it. */
async function visibleBroadcast(
  db: Db,
  id: string,
  reach: NotificationReach,
): Promise<BroadcastRow | undefined> {
  const row = await findBroadcast(db, id);
  if (!row || reach.source === undefined || row.source === reach.source) return row;
  if (reach.others === 'forbidden')
    throw new ForbiddenError(`Broadcast ${id} was created by another API key; this key may not act on it`);
  return undefined;
}

/** POST /v1/notifications/:id/cancel: a notification's, or a broadcast's (everything not yet sent). */
export async function cancelNotificationOrBroadcast(
  db: Db,
  temporal: Client,
  id: string,
  reason: string | undefined,
  reach: NotificationReach = {},
): Promise<WorkflowStatusResponse | BroadcastResponse> {
  try {
    return await actOnNotification(db, temporal, id, { kind: 'cancel', reason }, reach);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const broadcast = await visibleBroadcast(db, id, reach);
    if (!broadcast) throw error;
    return cancelBroadcast(db, temporal, broadcast, reason);
  }
}

/**
 * Records the broadcast cancelled and stops its fan-out; answers once both are done, so no recipient's
 * delivery starts after the answer (each attempt checks the broadcast's row as it opens). The recipients'
 * notifications are cancelled after the answer, in the background: how long the answer takes does not
 * grow with the audience. Cancelling a cancelled broadcast repeats its view.
 */
async function cancelBroadcast(
  db: Db,
  temporal: Client,
  broadcast: BroadcastRow,
  reason: string | undefined,
): Promise<BroadcastResponse> {
  if (broadcast.status === 'cancelled') return broadcastView(db, broadcast);
  // Before the row can say cancelled (the workflows record that, and pass no reason): a recipient its
  // row stops ends with the caller's reason, as those the cleanup cancels do.
  await recordCancelReason(db, broadcast.id, reason ?? null);
  const deadline = Date.now() + CANCEL_DEADLINE_MS;
  try {
    if (broadcast.status === 'started')
      await cancelStartedBroadcast(db, temporal, broadcast, reason, deadline);
    else
      await temporal.connection.withDeadline(deadline, () =>
        temporal.workflow
          .getHandle(broadcast.workflowId)
          .executeUpdate(cancelBroadcastUpdate, { args: [{ reason }] }),
      );
  } catch (error) {
    const now = (await findBroadcast(db, broadcast.id)) ?? broadcast;
    if (now.status === 'cancelled') return broadcastView(db, now);
    // Every recipient started while the update was on its way: their cleanup has a workflow of its own.
    if (now.status === 'started' && broadcast.status !== 'started')
      return cancelBroadcast(db, temporal, now, reason);
    if (error instanceof WorkflowNotFoundError && now.status === 'accepted')
      throw new UnavailableError("The broadcast's workflow has not started yet; retry the cancel");
    if (error instanceof WorkflowUpdateFailedError) throw new ConflictError('cannot-cancel', error.message);
    throw new UnavailableError('The broadcast is still being cancelled; retry the cancel to wait for it');
  }
  return broadcastView(db, (await findBroadcast(db, broadcast.id)) ?? broadcast);
}

/**
 * A broadcast whose fan-out has ended: starts (or joins) its cleanup workflow, then records the broadcast
 * cancelled, and does not wait for the cleanup. In that order: once the row says cancelled a repeated
 * cancel answers at once, so the cleanup must exist by then (it records the row itself too, should this
 * process die in between).
 */
async function cancelStartedBroadcast(
  db: Db,
  temporal: Client,
  broadcast: BroadcastRow,
  reason: string | undefined,
  deadline: number,
): Promise<void> {
  await temporal.connection.withDeadline(deadline, () =>
    temporal.workflow.start(cancelStartedBroadcastWorkflow, {
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: `${broadcast.workflowId}-cancel`,
      args: [{ broadcastId: broadcast.id, reason: reason ?? 'the broadcast was cancelled' }],
      // A repeated cancel waits for the same cleanup.
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.NotificationId, value: broadcast.id }],
    }),
  );
  await recordBroadcastEnd(db, broadcast.id, 'cancelled');
}
