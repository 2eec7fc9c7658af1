// Names shared by the broadcast workflow and its clients (the API, tests). Imported by workflow code.
import { ActivityFailure, ApplicationFailure, defineQuery, defineUpdate } from '@temporalio/workflow';

export const broadcastWorkflowIdFor = (broadcastId: string): string => `broadcast-${broadcastId}`;

/** Where a broadcast's fan-out is: `started` once every recipient's notification has started. */
export type BroadcastPhase = 'starting' | 'cancelling' | 'started' | 'cancelled';

export interface BroadcastInput {
  broadcastId: string;
  /** Carried across continue-as-new: the last subscription id whose notification started. */
  cursor?: string;
  /** Carried across continue-as-new: notifications started by earlier runs. */
  started?: number;
}

export interface BroadcastState {
  phase: BroadcastPhase;
  started: number;
}

export interface CancelBroadcastRequest {
  reason?: string;
}

export const broadcastStateQuery = defineQuery<BroadcastState>('broadcastState');
/**
 * Records the broadcast cancelled and stops the fan-out; answers once the row says `cancelled` and no
 * more notifications are being started: from then on no recipient's delivery starts (the delivery
 * attempt and the recipient's resolve check the broadcast's row). The recipients' notifications are
 * then cancelled one by one in the background (cancelBroadcastRecipients).
 */
export const cancelBroadcastUpdate = defineUpdate<BroadcastState, [CancelBroadcastRequest]>(
  'cancelBroadcast',
);

/**
 * A recipient's delivery or resolve found its broadcast cancelled: the failure type its activity ends
 * with (never retried), and the reason the notification is cancelled with.
 */
export const BROADCAST_CANCELLED_TYPE = 'BroadcastCancelled';
export const BROADCAST_CANCELLED_REASON = 'the broadcast was cancelled';

/**
 * Inside a recipient's workflow: thrown when its resolve step finds the broadcast cancelled (the same
 * failure a delivery activity ends with), so both take one way out (broadcastCancellation).
 */
export const broadcastCancelledFailure = (): ApplicationFailure =>
  ApplicationFailure.nonRetryable(BROADCAST_CANCELLED_REASON, BROADCAST_CANCELLED_TYPE);

/** The reason when `error` says the notification's broadcast was cancelled; undefined otherwise. */
export function broadcastCancellation(error: unknown): string | undefined {
  const failure = error instanceof ActivityFailure ? error.cause : error;
  return failure instanceof ApplicationFailure && failure.type === BROADCAST_CANCELLED_TYPE
    ? failure.message
    : undefined;
}
