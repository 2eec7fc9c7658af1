// Inbox retention's work: read and archived messages older than INBOX_RETENTION are deleted, a batch at
// a time so no statement holds many rows locked; unread ones stay whatever their age.
import { Context } from '@temporalio/activity';
import type { Db } from '../store/db.js';
import { pruneInboxMessages } from '../store/inbox.js';

export interface PruneInboxInput {
  /** Messages stored longer ago than this go, once read or archived. */
  retentionMs: number;
  /** Deleted per statement. */
  batchSize: number;
  /** At most this many per run; the next run goes on. */
  maxPerRun: number;
}

export interface PruneInboxResult {
  removed: number;
}

export function createPruneInbox(deps: { db: Db }) {
  return async function pruneInbox(input: PruneInboxInput): Promise<PruneInboxResult> {
    const before = new Date(Date.now() - input.retentionMs);
    let removed = 0;
    while (removed < input.maxPerRun) {
      const batch = await pruneInboxMessages(
        deps.db,
        before,
        Math.min(input.batchSize, input.maxPerRun - removed),
      );
      removed += batch;
      Context.current().heartbeat(removed);
      if (batch < input.batchSize) break;
    }
    return { removed };
  };
}
