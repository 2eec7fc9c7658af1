// Inbox retention: a Temporal Schedule runs this workflow every hour, so removing old inbox messages is
// durable, visible and pausable in the Temporal UI like the reconciler.
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/index.js';
import type { PruneInboxInput, PruneInboxResult } from '../activities/prune-inbox.js';

export const INBOX_RETENTION_SCHEDULE_ID = 'herald-inbox-retention';

const { pruneInbox } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10 minutes',
  // Beats once a batch: a worker that died mid-run is noticed in seconds, and the run goes again.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/** Without input, the worker's INBOX_RETENTION applies. */
export async function pruneInboxWorkflow(input: PruneInboxInput = {}): Promise<PruneInboxResult> {
  return pruneInbox(input);
}
