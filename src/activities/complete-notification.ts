import type { Db, Prisma } from '../store/db.js';
import type { ChannelName, NotificationOutcome } from '../workflows/definitions.js';

export interface FailedDelivery {
  channel: ChannelName;
  /** The last error the workflow saw; the delivery's own record of the provider's reason is kept. */
  error: string;
}

export interface ProgressInput {
  notificationId: string;
  status: 'processing' | NotificationOutcome;
  failed?: FailedDelivery[];
}

export interface CompletionInput {
  notificationId: string;
  outcome: NotificationOutcome;
  failed: FailedDelivery[];
  /** Why it was cancelled, for the record. */
  reason?: string;
}

/** Marks deliveries that gave up as failed, keeping the provider's reason when one was recorded. */
function markFailed(db: Db, notificationId: string, failed: readonly FailedDelivery[]) {
  return failed.flatMap(({ channel, error }) => [
    db.delivery.updateMany({
      where: { notificationId, channel, status: { not: 'sent' }, lastError: null },
      data: { lastError: error },
    }),
    db.delivery.updateMany({
      where: { notificationId, channel, status: { not: 'sent' } },
      data: { status: 'failed' },
    }),
  ]);
}

/** Writes that must land together; a lone write needs no transaction (nor its BEGIN, COMMIT and wait). */
async function writeTogether(db: Db, writes: Prisma.PrismaPromise<unknown>[]): Promise<void> {
  if (writes.length === 1) await writes[0];
  else await db.$transaction(writes);
}

/** The notification's state while it is still open: processing again, or failed and awaiting a retry. */
export function createRecordProgress(db: Db) {
  return async function recordProgress(input: ProgressInput): Promise<void> {
    await writeTogether(db, [
      ...markFailed(db, input.notificationId, input.failed ?? []),
      // updateMany: a notification deleted with its user is simply gone, not an error to retry.
      db.notification.updateMany({ where: { id: input.notificationId }, data: { status: input.status } }),
    ]);
  };
}

/** Records the notification's final state; a cancelled one cancels every delivery not yet sent. */
export function createCompleteNotification(db: Db) {
  return async function completeNotification(input: CompletionInput): Promise<void> {
    const { notificationId } = input;
    await writeTogether(db, [
      ...markFailed(db, notificationId, input.failed),
      ...(input.outcome === 'cancelled'
        ? [
            db.delivery.updateMany({
              where: { notificationId, status: { in: ['pending', 'sending', 'retrying'] } },
              data: { status: 'cancelled', lastError: input.reason ?? 'cancelled' },
            }),
          ]
        : []),
      db.notification.updateMany({
        where: { id: notificationId },
        data: { status: input.outcome, completedAt: new Date() },
      }),
    ]);
  };
}
