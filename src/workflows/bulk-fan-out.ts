// A bulk send's fan-out: the API records every notification of the request in one statement and hands
// this workflow only the bulk row's id; it starts their workflows a page at a time through an activity,
// so the API answers at once and nothing it accepted waits on the API process staying up.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/index.js';

/** One fan-out per bulk row: a second start of the same bulk send finds the first. */
export const bulkFanOutWorkflowId = (bulkSendId: string): string => `bulk-send-${bulkSendId}`;

export interface BulkFanOutInput {
  bulkSendId: string;
  /** How many notifications the bulk row lists. */
  total: number;
  /** Where this run begins, and the counts so far: carried over by continue-as-new. */
  from?: number;
  started?: number;
  alreadyStarted?: number;
  /** Notifications a page (one activity); pages a run before it continues as new. Tests set them small. */
  pageSize?: number;
  pagesPerRun?: number;
}

export interface BulkFanOutResult {
  /** Workflows this fan-out started. */
  started: number;
  /** Notifications whose workflow was already there (an earlier attempt, the reconciler) or that moved on. */
  alreadyStarted: number;
}

const PAGE_SIZE = 500;
// 100 pages are ~600 history events: far below the suggested limit, and 50,000 notifications a run.
const PAGES_PER_RUN = 100;

const { startBulkPage } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '5 minutes',
  // Beats as starts complete: a worker lost mid-page is noticed in seconds and the retry resumes there.
  heartbeatTimeout: '30 seconds',
  // Bounded: what a failed fan-out leaves unstarted, the reconciler starts.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

export async function bulkFanOutWorkflow(input: BulkFanOutInput): Promise<BulkFanOutResult> {
  const pageSize = input.pageSize ?? PAGE_SIZE;
  const pagesPerRun = input.pagesPerRun ?? PAGES_PER_RUN;
  let from = input.from ?? 0;
  const result = { started: input.started ?? 0, alreadyStarted: input.alreadyStarted ?? 0 };
  for (let pages = 0; from < input.total; pages++) {
    if (pages >= pagesPerRun || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof bulkFanOutWorkflow>({ ...input, ...result, from });
    const page = await startBulkPage({
      bulkSendId: input.bulkSendId,
      offset: from,
      limit: Math.min(pageSize, input.total - from),
    });
    result.started += page.started;
    result.alreadyStarted += page.alreadyStarted;
    // The row lists fewer than `total` only if it was removed: nothing further to start.
    if (page.checked === 0) break;
    from += page.checked;
  }
  return result;
}
