// A broadcast: one notification to every subscriber of a topic as it was when the broadcast was accepted.
// Pages through the snapshot a batch at a time; each batch's activity records the recipients'
// notifications and starts their workflows, with ids derived from the broadcast and the user, so a batch
// retried after any crash inserts and starts nothing twice. Continues as new every few batches, carrying
// the cursor, so its history stays small however large the audience.
import {
  CancellationScope,
  ActivityCancellationType,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { BroadcastActivities } from '../activities/broadcast.js';
import { SEARCH_ATTRIBUTES } from './definitions.js';
import {
  broadcastStateQuery,
  cancelBroadcastUpdate,
  type BroadcastInput,
  type BroadcastState,
} from './broadcast-definitions.js';

/** Recipients per batch: one INSERT and as many workflow starts, a bounded number at a time. */
export const BROADCAST_BATCH_SIZE = 500;
/** Batches per run before continuing as new: a few dozen history events each. */
export const BATCHES_PER_RUN = 8;

const { startBroadcastBatch } = proxyActivities<BroadcastActivities>({
  startToCloseTimeout: '10 minutes',
  // Beats after every start: a killed worker's batch is tried again within seconds, and a cancel reaches it.
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  // The cleanup after a cancel runs only once the batch has stopped starting notifications.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const { cancelBroadcastRecipients, recordBroadcastEnd } = proxyActivities<BroadcastActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * A cancel is answered once the broadcast's row says `cancelled` and the fan-out has stopped, no longer
 * after every recipient's notification was cancelled (a time that grew with the audience): the row is
 * what stops deliveries (openAttempt and resolveRecipient read it), and the recipients are cancelled
 * after the answer. Runs cancelled before this patch answered after the cleanup, and replay so.
 */
export const ANSWER_CANCEL_BEFORE_CLEANUP = 'broadcast-cancel-answered-before-cleanup';

export async function broadcastWorkflow(input: BroadcastInput): Promise<BroadcastState> {
  const state: BroadcastState = { phase: 'starting', started: input.started ?? 0 };
  let cursor = input.cursor ?? '0';
  let cancelReason: string | undefined;
  /** The broadcast's row recorded `cancelled` (with the patch): the first thing a cancel does. */
  let cancelRecorded: Promise<void> | undefined;
  const fanOut = new CancellationScope();
  const recordCancelled = () =>
    (cancelRecorded ??= CancellationScope.nonCancellable(() =>
      recordBroadcastEnd({ broadcastId: input.broadcastId, status: 'cancelled' }),
    ));

  const cancel = (reason = 'the broadcast was cancelled') => {
    if (state.phase !== 'starting') return;
    cancelReason = reason;
    state.phase = 'cancelling';
    // Deliveries stop as soon as the row says so, while the running batch winds down.
    if (patched(ANSWER_CANCEL_BEFORE_CLEANUP)) void recordCancelled();
    fanOut.cancel();
  };
  setHandler(broadcastStateQuery, () => state);
  setHandler(
    cancelBroadcastUpdate,
    async (request) => {
      cancel(request?.reason);
      await condition(() => state.phase === 'cancelled');
      return state;
    },
    {
      validator: (_request) => {
        if (state.phase === 'started') throw new Error('every recipient has been started already');
      },
    },
  );

  let cancellation: unknown;
  try {
    await fanOut.run(async () => {
      for (let batch = 0; ; batch++) {
        if (batch === BATCHES_PER_RUN) {
          await condition(allHandlersFinished);
          await continueAsNew<typeof broadcastWorkflow>({ ...input, cursor, started: state.started });
        }
        const result = await startBroadcastBatch({
          broadcastId: input.broadcastId,
          after: cursor,
          limit: BROADCAST_BATCH_SIZE,
          startedBefore: state.started,
        });
        cursor = result.cursor;
        state.started += result.count;
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.BroadcastStarted, value: state.started }]);
        if (result.done) return;
      }
    });
    // A cancel that came as the last batch ended still cancels what has not been sent.
    if (cancelReason === undefined) {
      await recordBroadcastEnd({ broadcastId: input.broadcastId, status: 'started' });
      // A cancel that came while the end was recorded is this run's to clean up (its row ends cancelled
      // whichever write came first: `started` never overwrites `cancelled`).
      if (cancelReason === undefined || !patched(ANSWER_CANCEL_BEFORE_CLEANUP)) {
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.BroadcastRecipients, value: state.started }]);
        state.phase = 'started';
        return state;
      }
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    cancellation = error;
  }
  const cancelRecipients = () =>
    CancellationScope.nonCancellable(() =>
      cancelBroadcastRecipients({
        broadcastId: input.broadcastId,
        reason: cancelReason ?? 'the broadcast was cancelled',
      }),
    );
  if (patched(ANSWER_CANCEL_BEFORE_CLEANUP)) {
    // The fan-out has stopped; once the row says cancelled no recipient's delivery starts: the update
    // answers now, and the recipients' notifications are cancelled in the background (their timers,
    // statuses), however many there are.
    await recordCancelled();
    state.phase = 'cancelled';
    await cancelRecipients();
  } else {
    await cancelRecipients();
    state.phase = 'cancelled';
  }
  // A cancel from Temporal itself (UI, CLI) leaves the run cancelled; one through the API ends it normally.
  if (cancelReason === undefined) throw cancellation;
  await condition(allHandlersFinished);
  return state;
}

/**
 * A cancel that comes once every recipient has started (the broadcast's own workflow has ended): the same
 * cleanup, as a workflow of its own (`broadcast-<id>-cancel`), so it survives the API and the worker.
 */
export async function cancelStartedBroadcastWorkflow(input: {
  broadcastId: string;
  reason: string;
}): Promise<void> {
  await cancelBroadcastRecipients(input);
}
