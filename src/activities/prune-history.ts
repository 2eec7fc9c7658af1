// History retention's work: notifications that ended longer ago than HISTORY_RETENTION are removed with
// their deliveries, attempts and inbox message, a bounded batch per statement (each its own short
// transaction), oldest first, one outcome at a time. A notification not yet ended stays whatever its age.
import { Context } from '@temporalio/activity';
import { removeEndedNotifications } from '../store/history-retention.js';
import type { Db } from '../store/db.js';
import { NOTIFICATION_OUTCOMES } from '../workflows/definitions.js';

/** Each unset field takes the worker's own setting (HISTORY_RETENTION) or default. */
export interface PruneHistoryInput {
  /** Notifications created and ended longer ago than this go. */
  retentionMs?: number;
  /** Notifications removed per statement (their deliveries and attempts go with them). */
  batchSize?: number;
  /** At most this many per run; the next run goes on. */
  maxPerRun?: number;
}

export interface PruneHistoryResult {
  removed: number;
  /** Statements that removed something, and the most one of them removed. */
  batches: number;
  largestBatch: number;
}

const BATCH_SIZE = 1000;
/** An hour's worth at 100 million notifications a day (docs/capacity.md), with room to catch up. */
const MAX_PER_RUN = 10_000_000;

export function createPruneHistory(deps: { db: Db; historyRetentionMs: number }) {
  return async function pruneHistory(input: PruneHistoryInput = {}): Promise<PruneHistoryResult> {
    const { retentionMs = deps.historyRetentionMs, batchSize = BATCH_SIZE, maxPerRun = MAX_PER_RUN } = input;
    const before = new Date(Date.now() - retentionMs);
    const { cancellationSignal } = Context.current();
    const result: PruneHistoryResult = { removed: 0, batches: 0, largestBatch: 0 };
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
