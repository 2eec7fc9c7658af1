// The bulk fan-out's work: one page of a bulk send's notifications has its workflows started, a bounded
// number at a time, with the same workflow ids and reuse policy as the API and the reconciler, so a
// start that already happened is found, never doubled. Progress is heartbeated: a retry resumes there.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { bulkSendPage, countAccepted, FAN_OUT_LEASE_MS, holdFanOutLease } from '../store/bulk-sends.js';
import { DEFAULT_FAN_OUT_WINDOW, FanOutWindow } from './fan-out-window.js';
import { notificationInputFor, startNotificationWorkflow } from '../domain/notification-workflow.js';

export interface BulkPageInput {
  bulkSendId: string;
  /** Position in the bulk row's list of notifications, from 0. */
  offset: number;
  limit: number;
}

export interface BulkPageResult {
  /** Notifications of the page (fewer than `limit` only at the end of the list). */
  checked: number;
  started: number;
  alreadyStarted: number;
}

/** Starts in flight at once: enough to keep the frontend busy, few enough to leave it to the rest. */
const START_CONCURRENCY = 32;

export function createStartBulkPage(deps: {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** FAN_OUT_WINDOW: started notifications of this send that may wait for their first step at once. */
  fanOutWindow?: number;
}) {
  return async function startBulkPage(input: BulkPageInput): Promise<BulkPageResult> {
    const context = Context.current();
    // How many of this page an earlier attempt finished, in order: those are not started again.
    const resumeAt = Number(context.info.heartbeatDetails ?? 0) || 0;
    const { ids, previousIds, requestId, unstarted } = await bulkSendPage(
      deps.db,
      input.bulkSendId,
      input.offset,
      input.limit,
    );
    const result: BulkPageResult = { checked: ids.length, started: 0, alreadyStarted: resumeAt };
    // While this page paces its starts, the reconciler must not start its notifications unpaced.
    await holdFanOutLease(deps.db, input.bulkSendId);
    let leaseRenewedAt = Date.now();
    const renewLease = () => {
      if (Date.now() - leaseRenewedAt < FAN_OUT_LEASE_MS / 4) return;
      leaseRenewedAt = Date.now();
      holdFanOutLease(deps.db, input.bulkSendId).catch((error: unknown) =>
        deps.logger.warn({ err: error, bulkSendId: input.bulkSendId }, 'could not renew the fan-out lease'),
      );
    };
    const done = ids.map((_, i) => i < resumeAt);
    let finishedUpTo = resumeAt;
    // Paced: the previous page's and this page's started notifications that are still waiting (a page
    // follows the previous one only once most of that one has moved on).
    const admitted: string[] = [];
    const window = new FanOutWindow({
      size: deps.fanOutWindow ?? DEFAULT_FAN_OUT_WINDOW,
      countWaiting: () => countAccepted(deps.db, [...previousIds, ...admitted]),
      signal: context.cancellationSignal,
      whileHeld: () => {
        context.heartbeat(finishedUpTo);
        renewLease();
      },
    });
    let next = resumeAt;
    const startEach = async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const row = unstarted.get(ids[i]!);
        if (row) {
          // Cancelled (the worker is shutting down): what is left of the page, a retry starts.
          if (!(await window.admit())) return;
          admitted.push(row.id);
        }
        // Absent: the notification moved on (its workflow ran) or went with its user.
        const outcome = row
          ? await startNotificationWorkflow(
              deps.temporal,
              notificationInputFor(row),
              row.workflowId,
              requestId ?? input.bulkSendId,
              row,
            )
          : 'existing';
        if (outcome === 'started') result.started += 1;
        else result.alreadyStarted += 1;
        done[i] = true;
        while (done[finishedUpTo]) finishedUpTo += 1;
        context.heartbeat(finishedUpTo);
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, ids.length) }, startEach));
    // The page is not done: the retry resumes from the heartbeat.
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    if (window.stalled)
      deps.logger.warn(
        { bulkSendId: input.bulkSendId, offset: input.offset },
        "a bulk send's started notifications took no step for a while: the rest of the page started unpaced",
      );
    return result;
  };
}
