// History retention's work: notifications that ended longer ago than HISTORY_RETENTION are removed with
// their deliveries, attempts and inbox message, a bounded batch per statement (each its own short
// transaction), oldest first, one outcome at a time. A notification not yet ended stays whatever its age.
// Provider receipts kept for a message id no delivery got (early_receipts) go after a day, the same way;
// one whose delivery has turned up is applied first.
import { Context } from '@temporalio/activity';
import { removeEndedNotifications, removeExpiredEarlyReceipts } from '../store/history-retention.js';
import type { Db } from '../store/db.js';
import { applyMatchedKeptReceipts } from '../store/delivery-receipts.js';
import { NOTIFICATION_OUTCOMES } from '../workflows/definitions.js';

/** Each unset field takes the worker's own setting (HISTORY_RETENTION) or default. */
export interface PruneHistoryInput {
  /** Notifications created and ended longer ago than this go. */
  retentionMs?: number;
  /** Notifications removed per statement (their deliveries and attempts go with them). */
  batchSize?: number;
  /** At most this many per run; the next run goes on. The same bounds apply to early receipts. */
  maxPerRun?: number;
  /** Receipts kept for a message id no delivery has go once kept longer than this (a day). */
  earlyReceiptRetentionMs?: number;
}

export interface PruneHistoryResult {
  removed: number;
  /** Statements that removed something, and the most one of them removed. */
  batches: number;
  largestBatch: number;
  /** Kept receipts removed: applied to the delivery found for them at last, or expired unmatched. */
  earlyReceiptsRemoved: number;
}

const BATCH_SIZE = 1000;
/** An hour's worth at 100 million notifications a day (docs/capacity.md), with room to catch up. */
const MAX_PER_RUN = 10_000_000;
/**
 * Twilio calls back within seconds or minutes of accepting a message, and a send is recorded as soon as
 * the provider answers: a receipt that waited a day for its send will not meet it.
 */
const EARLY_RECEIPT_RETENTION_MS = 86_400_000;

export function createPruneHistory(deps: { db: Db; historyRetentionMs: number }) {
  return async function pruneHistory(input: PruneHistoryInput = {}): Promise<PruneHistoryResult> {
    const { retentionMs = deps.historyRetentionMs, batchSize = BATCH_SIZE, maxPerRun = MAX_PER_RUN } = input;
    const before = new Date(Date.now() - retentionMs);
    const { cancellationSignal } = Context.current();
    const result: PruneHistoryResult = { removed: 0, batches: 0, largestBatch: 0, earlyReceiptsRemoved: 0 };
    // First: a few, and not held up behind a long backlog of notifications. One whose delivery has its
    // message id by now is applied rather than dropped (both of the race's looks were lost to a crash).
    const receivedBefore = new Date(
      Date.now() - (input.earlyReceiptRetentionMs ?? EARLY_RECEIPT_RETENTION_MS),
    );
    for (const removeBatch of [
      (limit: number) => applyMatchedKeptReceipts(deps.db, limit),
      (limit: number) => removeExpiredEarlyReceipts(deps.db, receivedBefore, limit),
    ]) {
      for (;;) {
        const limit = Math.min(batchSize, maxPerRun - result.earlyReceiptsRemoved);
        if (cancellationSignal.aborted) return result;
        if (limit <= 0) break;
        const removed = await removeBatch(limit);
        result.earlyReceiptsRemoved += removed;
        Context.current().heartbeat(result.earlyReceiptsRemoved);
        if (removed < limit) break;
      }
    }
    for (const status of NOTIFICATION_OUTCOMES) {
      for (;;) {
        const limit = Math.min(batchSize, maxPerRun - result.removed);
        if (limit <= 0 || cancellationSignal.aborted) return result;
        const removed = await removeEndedNotifications(deps.db, status, before, limit);
        if (removed > 0) {
          result.removed += removed;
          result.batches++;
          result.largestBatch = Math.max(result.largestBatch, removed);
        }
        Context.current().heartbeat(result.removed);
        if (removed < limit) break;
      }
    }
    return result;
  };
}
