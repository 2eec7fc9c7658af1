// Names shared by the broadcast workflow and its clients (the API, tests). Imported by workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';

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
 * Stops the fan-out and cancels every recipient's notification not yet ended. Answers once that is done:
 * from then on no recipient's delivery starts.
 */
export const cancelBroadcastUpdate = defineUpdate<BroadcastState, [CancelBroadcastRequest]>(
  'cancelBroadcast',
);
