// POST /v1/notifications/cancel {cancellationKey}: every pending step of every notification carrying
// the key stops, and digested items not yet sent leave their digest (docs/flows.md).
import type { Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import { findByCancellationKey, withdrawDigested } from '../store/digests.js';
import { cancelSignal } from '../workflows/definitions.js';

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
  const withdrawnFromDigests = await withdrawDigested(db, request.cancellationKey, source);
  const open = await findByCancellationKey(db, request.cancellationKey, source);
  let cancelled = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < open.length; i = next++) {
      // A signal, not an update: it reaches a run mid-step and a closed run is simply not counted.
      const reached = await temporal.workflow
        .getHandle(open[i]!.workflowId)
        .signal(cancelSignal, { reason })
        .then(
          () => true,
          () => false,
        );
      if (reached) cancelled += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, open.length) }, worker));
  return { cancellationKey: request.cancellationKey, cancelled, withdrawnFromDigests };
}
