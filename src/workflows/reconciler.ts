// The reconciler: a Temporal Schedule runs this workflow every minute, so the sweep for notifications
// whose workflow never started is itself durable, and visible (and pausable) in the Temporal UI.
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/index.js';
import type { ReconcileInput, ReconcileResult } from '../activities/reconcile-notifications.js';

export const RECONCILER_SCHEDULE_ID = 'herald-reconciler';

export const RECONCILE_DEFAULTS: ReconcileInput = {
  olderThanMs: 60_000,
  leadMs: 5 * 60_000,
  maxPerRun: 5_000,
};

const { reconcileNotifications } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '5 minutes',
  // Beats once a page: a worker that died mid-sweep is noticed in seconds, and the sweep runs again.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

export async function reconcileNotificationsWorkflow(input?: ReconcileInput): Promise<ReconcileResult> {
  return reconcileNotifications(input ?? RECONCILE_DEFAULTS);
}
