// What the broadcast tests share (test/broadcasts.test.ts, test/broadcast-cancel.test.ts): the view a
// broadcast answers with, and waiting for a cancelled broadcast's cleanup to end.
import type { components } from '@herald/client';
import { NOTIFICATION_OUTCOMES } from '../../src/workflows/definitions.js';
import { eventually, type RunningStack } from './stack.js';

export type BroadcastView = components['schemas']['Broadcast'];

/** The broadcast's recipients' notifications that have not ended. */
export const openRecipients = (herald: RunningStack, broadcastId: string): Promise<number> =>
  herald.db.notification.count({ where: { broadcastId, status: { notIn: [...NOTIFICATION_OUTCOMES] } } });

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
