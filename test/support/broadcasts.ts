// What the broadcast tests share (test/broadcasts.test.ts, test/broadcast-cancel.test.ts): the view a
// broadcast answers with, and waiting for a cancelled broadcast's cleanup to end.
import type { components } from '@herald/client';
import { eventually, type RunningStack } from './stack.js';

export type BroadcastView = components['schemas']['Broadcast'];

/** Notification statuses that end a recipient's notification. */
export const ENDED_STATUSES = [
  'sent',
  'partially_sent',
  'failed',
  'skipped',
  'cancelled',
  'digested',
] as const;

/** The broadcast's recipients' notifications that have not ended. */
export const openRecipients = (herald: RunningStack, broadcastId: string): Promise<number> =>
  herald.db.notification.count({ where: { broadcastId, status: { notIn: [...ENDED_STATUSES] } } });

/**
 * Waits for a cancelled broadcast's cleanup to end: every recipient's notification ended, and the
 * workflow that cancelled them (the broadcast's own, or `-cancel` once every recipient had started) closed.
 */
export async function cleanupEnded(herald: RunningStack, broadcastId: string): Promise<void> {
  await eventually(
    async () => {
      if ((await openRecipients(herald, broadcastId)) > 0) return false;
      for (const workflowId of [`broadcast-${broadcastId}`, `broadcast-${broadcastId}-cancel`]) {
        const running = await herald.temporal.workflow
          .getHandle(workflowId)
          .describe()
          .then((d) => d.status.name === 'RUNNING')
          .catch(() => false);
        if (running) return false;
      }
      return true;
    },
    { timeoutMs: 180_000, what: `the cleanup of broadcast ${broadcastId} to end` },
  );
}
