import type { Db } from '../store/db.js';
import { recordCompletion, recordProgress, type FailedDelivery } from '../store/notifications.js';
import type { NotificationOutcome } from '../workflows/definitions.js';
import type { TraceEntry } from '../workflows/flows/steps.js';

export type { FailedDelivery };

export interface ProgressInput {
  notificationId: string;
  /** Absent: the status stays as it is (a flow recording its steps so far). */
  status?: 'processing' | NotificationOutcome;
  failed?: FailedDelivery[];
  /** A flow's steps done so far, shown while it rests in a delay or a wait (docs/flows.md). */
  flowTrace?: TraceEntry[];
}

export interface CompletionInput {
  notificationId: string;
  outcome: NotificationOutcome;
  failed: FailedDelivery[];
  /** Why it was cancelled, for the record. */
  reason?: string;
  /** A flow's steps, as they ran (docs/flows.md). */
  flowTrace?: TraceEntry[];
}

/** The notification's state while it is still open: processing again, or failed and awaiting a retry. */
export function createRecordProgress(db: Db) {
  return async function recordProgressActivity(input: ProgressInput): Promise<void> {
    await recordProgress(db, input.notificationId, input.status, input.failed, input.flowTrace);
  };
}

/** Records the notification's final state; a cancelled one cancels every delivery not yet sent. */
export function createCompleteNotification(db: Db) {
  return async function completeNotification(input: CompletionInput): Promise<void> {
    await recordCompletion(
      db,
      input.notificationId,
      input.outcome,
      input.failed,
      input.reason,
      input.flowTrace,
    );
  };
}
