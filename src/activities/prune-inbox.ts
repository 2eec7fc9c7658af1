// Inbox retention's work: read and archived messages older than INBOX_RETENTION are deleted, a batch at
// a time so no statement holds many rows locked; unread ones stay whatever their age.
import { Context } from '@temporalio/activity';
import type { Db } from '../store/db.js';
import { pruneInboxMessages } from '../store/inbox.js';

/** Each unset field takes the worker's own setting (INBOX_RETENTION) or default. */
export interface PruneInboxInput {
  /** Messages stored longer ago than this go, once read or archived. */
  retentionMs?: number;
  /** Deleted per statement. */
  batchSize?: number;
  /** At most this many per run; the next run goes on. */
  maxPerRun?: number;
}

export interface PruneInboxResult {
  removed: number;
}

const BATCH_SIZE = 1000;
const MAX_PER_RUN = 200_000;

export function createPruneInbox(deps: { db: Db; inboxRetentionMs: number }) {
  return async function pruneInbox(input: PruneInboxInput = {}): Promise<PruneInboxResult> {
    const { retentionMs = deps.inboxRetentionMs, batchSize = BATCH_SIZE, maxPerRun = MAX_PER_RUN } = input;
    const before = new Date(Date.now() - retentionMs);
    let removed = 0;
    while (removed < maxPerRun) {
      const batch = await pruneInboxMessages(deps.db, before, Math.min(batchSize, maxPerRun - removed));
      removed += batch;
      Context.current().heartbeat(removed);
      if (batch < batchSize) break;
    }
    return { removed };
  };
}
