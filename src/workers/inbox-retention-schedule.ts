// The inbox retention's Temporal Schedule (src/workflows/inbox-retention.ts), made sure of by every
// worker that serves the notifications queue while the inbox is on.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { PruneInboxInput } from '../activities/prune-inbox.js';
import { NOTIFICATIONS_QUEUE } from '../workflows/definitions.js';
import { INBOX_RETENTION_SCHEDULE_ID, pruneInboxWorkflow } from '../workflows/inbox-retention.js';
import { ensureSchedule } from './schedules.js';

export interface InboxRetentionScheduleOptions {
  /** INBOX_RETENTION, in milliseconds. */
  retentionMs: number;
  scheduleId?: string;
  /** Created paused: runs only when triggered (tests, which share a Temporal server). */
  paused?: boolean;
}

export function ensureInboxRetentionSchedule(
  temporal: Client,
  options: InboxRetentionScheduleOptions,
): Promise<string> {
  const scheduleId = options.scheduleId ?? INBOX_RETENTION_SCHEDULE_ID;
  const input: PruneInboxInput = { retentionMs: options.retentionMs, batchSize: 1000, maxPerRun: 200_000 };
  return ensureSchedule(temporal, {
    scheduleId,
    spec: { intervals: [{ every: '1 hour' }] },
    action: {
      type: 'startWorkflow',
      workflowType: pruneInboxWorkflow,
      args: [input],
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: `inbox-retention/${scheduleId}`,
    },
    // A run missed while no worker was up is not made up for: the next one removes the same messages.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    state: {
      paused: options.paused ?? false,
      note: 'Removes read and archived inbox messages older than INBOX_RETENTION',
    },
  } satisfies ScheduleOptions);
}
