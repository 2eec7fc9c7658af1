// The reconciler's work: a notification recorded by the API whose workflow did not start (the API died
// between the two, or the start failed ambiguously) is started here. Starting is idempotent: the workflow
// id comes from the notification and a run that exists is found, so this never sends twice.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { findUnstartedCandidates } from '../store/notifications.js';
import { notificationInputFor, startNotificationWorkflow } from '../domain/notification-workflow.js';
import { startUnstartedBroadcasts } from '../domain/broadcasts.js';
import { notificationsBeingFannedOut } from '../store/bulk-sends.js';
import { broadcastsStarting } from '../store/broadcasts.js';

export interface ReconcileInput {
  /** Only notifications recorded at least this long ago: a younger one may be starting right now. */
  olderThanMs: number;
  /** Scheduled notifications are started when their send time is this close. */
  leadMs: number;
  /** At most this many checked per run; the next run goes on. */
  maxPerRun: number;
}

export interface ReconcileResult {
  checked: number;
  /** Notifications whose workflow this run started: each one had been left behind. */
  started: string[];
}

const PAGE_SIZE = 100;

export function createReconcileNotifications(deps: { db: Db; temporal: Client; logger: Logger }) {
  return async function reconcileNotifications(input: ReconcileInput): Promise<ReconcileResult> {
    const now = Date.now();
    const recordedBefore = new Date(now - input.olderThanMs);
    const dueBefore = new Date(now + input.leadMs);
    const result: ReconcileResult = { checked: 0, started: [] };
    let after: { createdAt: Date; id: string } | undefined;
    // A campaign's fan-out paces its starts (src/activities/fan-out-window.ts), so its notifications may
    // wait minutes for it: they are its to start while it runs (a bulk send's lease, a broadcast still
    // `starting`), and become the reconciler's once it has died or ended.
    const fannedOut = await notificationsBeingFannedOut(deps.db);
    const starting = await broadcastsStarting(deps.db);
    let leftToFanOuts = 0;
    while (result.checked < input.maxPerRun) {
      const limit = Math.min(PAGE_SIZE, input.maxPerRun - result.checked);
      const page = await findUnstartedCandidates(deps.db, { recordedBefore, dueBefore, after, limit });
      for (const row of page) {
        if (fannedOut.has(row.id) || (row.broadcastId !== null && starting.has(row.broadcastId))) {
          leftToFanOuts += 1;
          continue;
        }
        const outcome = await startNotificationWorkflow(
          deps.temporal,
          notificationInputFor(row),
          row.workflowId,
          'reconciler',
          row,
        );
        if (outcome === 'started') {
          result.started.push(row.id);
          deps.logger.warn(
            { notificationId: row.id, workflowId: row.workflowId, recordedAt: row.createdAt },
            'reconciler started a notification whose workflow had not started',
          );
        }
      }
      result.checked += page.length;
      Context.current().heartbeat(result.checked);
      if (page.length < limit) break;
      const last = page[page.length - 1]!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    if (leftToFanOuts > 0)
      deps.logger.info({ leftToFanOuts }, 'reconciler left notifications to the campaigns starting them');
    // Broadcasts recorded whose workflow never started: the same sweep, for the same reason.
    result.started.push(...(await startUnstartedBroadcasts(deps, recordedBefore)));
    return result;
  };
}
