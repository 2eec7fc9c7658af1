import type { Db } from '../lib/db.js';
import type { ChannelName, NotificationOutcome } from '../workflows/definitions.js';

export interface CompletionInput {
  notificationId: string;
  outcome: NotificationOutcome;
  /** Channels whose delivery gave up, with the last error the workflow saw. */
  failed: { channel: ChannelName; error: string }[];
}

/** Records the notification's final state, and marks deliveries that gave up as failed. */
export function createCompleteNotification(db: Db) {
  return async function completeNotification(input: CompletionInput): Promise<void> {
    await db.$transaction([
      ...input.failed.map(({ channel, error }) =>
        db.delivery.updateMany({
          where: { notificationId: input.notificationId, channel, status: { not: 'sent' } },
          data: { status: 'failed', lastError: error },
        }),
      ),
      db.notification.update({
        where: { id: input.notificationId },
        data: { status: input.outcome, completedAt: new Date() },
      }),
    ]);
  };
}
