// History retention: a Temporal Schedule runs this workflow every hour, so removing old notifications is
// durable, visible and pausable in the Temporal UI like the reconciler and inbox retention.
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/index.js';
import type { PruneHistoryInput, PruneHistoryResult } from '../activities/prune-history.js';

export const HISTORY_RETENTION_SCHEDULE_ID = 'herald-history-retention';

const { pruneHistory } = proxyActivities<NotificationActivities>({
  // A long backlog (a first run on an old database) takes many batches; the next run goes on after this.
  startToCloseTimeout: '2 hours',
  // Beats once a batch: a worker that died mid-run is noticed in a minute, and the run goes again.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/** Without input, the worker's HISTORY_RETENTION applies. */
export async function pruneHistoryWorkflow(input: PruneHistoryInput = {}): Promise<PruneHistoryResult> {
  return pruneHistory(input);
}
