// The reconciler's Temporal Schedule, made sure of by every worker that serves the notifications queue.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { NOTIFICATIONS_QUEUE } from '../workflows/definitions.js';
import { RECONCILER_SCHEDULE_ID, reconcileNotificationsWorkflow } from '../workflows/reconciler.js';
import type { ReconcileInput } from '../activities/index.js';
import { ensureSchedule } from './schedules.js';

export interface ReconcilerScheduleOptions {
  scheduleId?: string;
  every?: string;
  input?: ReconcileInput;
  /** Created paused: runs only when triggered (tests, which share a Temporal server). */
  paused?: boolean;
}

export async function ensureReconcilerSchedule(
  temporal: Client,
  options: ReconcilerScheduleOptions = {},
): Promise<string> {
  const scheduleId = options.scheduleId ?? RECONCILER_SCHEDULE_ID;
  const schedule = {
    scheduleId,
    spec: { intervals: [{ every: options.every ?? '1 minute' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: reconcileNotificationsWorkflow,
      // Without arguments by default (the workflow has its defaults): nothing in the schedule for a payload
      // codec to seal, so a worker with other CODEC_KEYS can still read and update it.
      args: (options.input ? [options.input] : []) as [ReconcileInput?],
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: `reconciler/${scheduleId}`,
    },
    // One sweep at a time; a run missed while no worker was up is not made up for: the next one covers it.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    state: {
      paused: options.paused ?? false,
      note: 'Starts notifications recorded by the API whose workflow did not start',
    },
  } satisfies ScheduleOptions;
  return ensureSchedule(temporal, schedule);
}
