// History retention's Temporal Schedule (src/workflows/history-retention.ts), made sure of by every
// worker that serves the notifications queue.
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { PruneHistoryInput } from '../activities/prune-history.js';
import { NOTIFICATIONS_QUEUE } from '../workflows/definitions.js';
import { HISTORY_RETENTION_SCHEDULE_ID, pruneHistoryWorkflow } from '../workflows/history-retention.js';
import { ensureSchedule } from './schedules.js';

export interface HistoryRetentionScheduleOptions {
  scheduleId?: string;
  /** By default none: the worker that runs it applies its HISTORY_RETENTION. */
  input?: PruneHistoryInput;
  /** Created paused: runs only when triggered (tests, which share a Temporal server). */
  paused?: boolean;
}

export function ensureHistoryRetentionSchedule(
  temporal: Client,
  options: HistoryRetentionScheduleOptions = {},
): Promise<string> {
  const scheduleId = options.scheduleId ?? HISTORY_RETENTION_SCHEDULE_ID;
  return ensureSchedule(temporal, {
    scheduleId,
    spec: { intervals: [{ every: '1 hour' }] },
    action: {
      type: 'startWorkflow',
      workflowType: pruneHistoryWorkflow,
      // No arguments by default: nothing for a payload codec to seal, so any worker can read and update it.
      args: (options.input ? [options.input] : []) as [PruneHistoryInput?],
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: `history-retention/${scheduleId}`,
    },
    // One run at a time (a long backlog may outlast the hour); a missed run is not made up for: the next
    // one removes the same notifications.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    state: {
      paused: options.paused ?? false,
      note: 'Removes notifications that ended longer ago than HISTORY_RETENTION, with their deliveries and attempts',
    },
  } satisfies ScheduleOptions);
}
