// POST /v1/notifications/cancel {cancellationKey}: every pending step of every notification carrying
// the key stops, and digested items not yet sent leave their digest (docs/flows.md).
import type { Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import { findByCancellationKey, withdrawDigested } from '../store/digests.js';
import { eachBounded } from '../platform/bounded.js';
import { cancelSignal } from '../workflows/definitions.js';
import { digestWithdrawSignal } from '../workflows/flows/digest.js';

/** How many notifications one request signals at a time. */
const CONCURRENCY = 16;

export interface CancelByKeyResult {
  cancellationKey: string;
  /** Running notifications told to cancel. */
  cancelled: number;
  /** Items withdrawn from digests not yet sent. */
  withdrawnFromDigests: number;
}

export async function cancelByKey(
  db: Db,
  temporal: Client,
  request: { cancellationKey: string; reason?: string },
  source?: string,
): Promise<CancelByKeyResult> {
  const reason = request.reason ?? `cancelled by key ${request.cancellationKey}`;
  // Withdrawn first: an item a digest has not taken yet is gone from it from now on.
  const withdrawn = await withdrawDigested(db, request.cancellationKey, source);
  await tellDigests(temporal, withdrawn);
  const open = await findByCancellationKey(db, request.cancellationKey, source);
  let cancelled = 0;
  await eachBounded(open, CONCURRENCY, async (notification) => {
    // A signal, not an update: it reaches a run mid-step and a closed run is simply not counted.
    const reached = await temporal.workflow
      .getHandle(notification.workflowId)
      .signal(cancelSignal, { reason })
      .then(
        () => true,
        () => false,
      );
    if (reached) cancelled += 1;
  });
  return { cancellationKey: request.cancellationKey, cancelled, withdrawnFromDigests: withdrawn.length };
}

/**
 * Tells each digest workflow which of its items left, so they stop counting toward its `max`. Best
 * effort: a digest that already closed took only the items still digested in the database.
 */
async function tellDigests(
  temporal: Client,
  withdrawn: readonly { id: string; digestWorkflowId: string }[],
): Promise<void> {
  const byDigest = new Map<string, string[]>();
  for (const { id, digestWorkflowId } of withdrawn)
    byDigest.set(digestWorkflowId, [...(byDigest.get(digestWorkflowId) ?? []), id]);
  await eachBounded([...byDigest], CONCURRENCY, async ([workflowId, notificationIds]) => {
    await temporal.workflow
      .getHandle(workflowId)
      .signal(digestWithdrawSignal, { notificationIds })
      .catch(() => undefined);
  });
}
