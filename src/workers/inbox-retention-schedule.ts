// The inbox retention's Temporal Schedule (src/workflows/inbox-retention.ts), made sure of by every
// worker that serves the notifications queue while the inbox is on.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { PruneInboxInput } from '../activities/prune-inbox.js';
import { NOTIFICATIONS_QUEUE } from '../workflows/definitions.js';
import { INBOX_RETENTION_SCHEDULE_ID, pruneInboxWorkflow } from '../workflows/inbox-retention.js';
import { ensureSchedule } from './schedules.js';

export interface InboxRetentionScheduleOptions {
  scheduleId?: string;
  /** By default none: the worker that runs it applies its INBOX_RETENTION. */
  input?: PruneInboxInput;
  /** Created paused: runs only when triggered (tests, which share a Temporal server). */
  paused?: boolean;
}

export function ensureInboxRetentionSchedule(
  temporal: Client,
  options: InboxRetentionScheduleOptions = {},
): Promise<string> {
  const scheduleId = options.scheduleId ?? INBOX_RETENTION_SCHEDULE_ID;
  return ensureSchedule(temporal, {
    scheduleId,
    spec: { intervals: [{ every: '1 hour' }] },
    action: {
      type: 'startWorkflow',
      workflowType: pruneInboxWorkflow,
      // No arguments by default: nothing for a payload codec to seal, so any worker can read and update it.
      args: (options.input ? [options.input] : []) as [PruneInboxInput?],
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
