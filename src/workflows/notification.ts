import {
  CancellationScope,
  condition,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { NotificationActivities } from '../activities/index.js';
import {
  SEARCH_ATTRIBUTES,
  cancelSignal,
  cancelUpdate,
  engagementSignal,
  retrySignal,
  retryUpdate,
  statusQuery,
  type NotificationInput,
  type NotificationOutcome,
  type NotificationStatus,
  type WorkflowStatus,
} from './definitions.js';
import { deliverAll, type Lane } from './delivery-lanes.js';
import { broadcastCancellation, broadcastCancelledFailure } from './broadcast-definitions.js';
import { createAnnouncer } from './webhooks.js';
import { runFlow } from './flows/interpreter.js';
import type { TraceEntry } from './flows/steps.js';

type DatabaseSteps = Pick<
  NotificationActivities,
  'resolveRecipient' | 'recordProgress' | 'completeNotification'
>;
// The notifications worker runs these database steps itself, as local activities: no activity task
// goes through the server for them, only a marker in history (bench/README.md measures what it buys).
const { resolveRecipient, recordProgress, completeNotification } = proxyLocalActivities<DatabaseSteps>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One notification: wait for `sendAt`, resolve the recipient, wait out quiet hours, deliver on each
 * planned channel in parallel (falling back when asked), and keep failed deliveries retryable for a
 * window before closing. `cancel` stops it at any of those stages.
 */
export async function notificationWorkflow(input: NotificationInput): Promise<NotificationOutcome> {
  const status: WorkflowStatus = { state: 'resolving', retries: 0, channels: {} };
  // The DeliveryStatus search attribute last upserted: an upsert goes out only when something changed.
  let shownStatus: string | undefined;
  const main = new CancellationScope();
  const webhooks = createAnnouncer(input, status);
  let cancelledBy: string | undefined;
  let retryRequested = false;
  let closing = false;
  const flowTrace: TraceEntry[] = [];

  const finished = () => closing || status.state === 'completed' || status.state === 'cancelled';
  const cancel = (reason = 'cancelled on request') => {
    if (finished() || cancelledBy) return;
    cancelledBy = reason;
    main.cancel();
  };
  const retry = () => {
    if (status.state === 'awaiting_retry') retryRequested = true;
  };
  setHandler(statusQuery, () => status);
  setHandler(cancelSignal, (request) => cancel(request?.reason));
  setHandler(retrySignal, retry);
  // Changes no command, only the state queries read: replay-safe (docs/workflow-versioning.md).
  setHandler(engagementSignal, (event) => {
    status.engagement ??= {};
    status.engagement[event.kind] ??= event;
  });
  setHandler(
    cancelUpdate,
    (request) => {
      cancel(request?.reason);
      return status;
    },
    {
      validator: (_request) =>
        refuseUnless(!finished(), `the notification is already ${closing ? 'closing' : status.state}`),
    },
  );
  setHandler(
    retryUpdate,
    async () => {
      retry();
      await condition(() => status.state !== 'awaiting_retry');
      return status;
    },
    {
      validator: () =>
        refuseUnless(
          status.state === 'awaiting_retry',
          `nothing to retry: the notification is ${status.state}`,
        ),
    },
  );

  try {
    const outcome = await main.run(async () => {
      if (input.sendAt) {
        const wait = Date.parse(input.sendAt) - Date.now(); // workflow time: deterministic
        if (wait > 0) {
          enter('scheduled', 'scheduled');
          status.sendAt = input.sendAt;
          await sleep(wait);
        }
      }
      const { flow } = input;
      if (flow) {
        return runFlow({
          input: { ...input, flow },
          status,
          trace: flowTrace,
          setWebhookTargets: (plan) => webhooks.setTargets(plan.webhooks, plan.settings.webhookRetryForMs),
          show: (value) => showDeliveryStatus(value),
        });
      }
      // Search shows no `resolving` status: the planned channels go out with the status that follows.
      status.state = 'resolving';
      const plan = await resolveRecipient({ ...input, at: new Date().toISOString() });
      webhooks.setTargets(plan.webhooks, plan.settings.webhookRetryForMs);
      if (plan.broadcastCancelled) throw broadcastCancelledFailure();
      for (const { channel, reason } of plan.skipped)
        status.channels[channel] = { state: 'skipped', error: reason };
      const channels = { key: SEARCH_ATTRIBUTES.Channels, value: plan.planned };
      if (plan.planned.length === 0) {
        upsertSearchAttributes([channels]);
        return 'skipped';
      }

      if (plan.deferUntil) {
        status.state = 'deferred';
        showDeliveryStatus('deferred', [channels]);
        status.deferredUntil = plan.deferUntil;
        await sleep(Math.max(0, Date.parse(plan.deferUntil) - Date.now()));
        delete status.deferredUntil;
        await recordProgress({ notificationId: input.notificationId, status: 'processing' });
      } else {
        showDeliveryStatus('processing', [channels]);
      }

      const lanes: Lane[] = plan.planned.map((channel) => ({ tried: [channel], sent: false }));
      const fallbacks = [...plan.fallbacks];
      for (;;) {
        enter('delivering', 'processing');
        if (status.retries > 0) {
          await recordProgress({ notificationId: input.notificationId, status: 'processing' });
        }
        await deliverAll({
          notificationId: input.notificationId,
          lanes,
          fallbacks,
          settings: plan.settings,
          status,
          ack: input.ack,
          // Operators see a failed delivery in search at once, not when the slowest lane ends.
          onLaneFailed: () => showDeliveryStatus('failed'),
        });
        const outcome = outcomeOf(lanes);
        if (outcome === 'sent') return outcome;
        webhooks.announce(outcome);

        // Retries ran out or a provider refused: keep the failed deliveries retryable for a while.
        // Cleared before the state opens to retries: one asked for while the progress is recorded counts.
        retryRequested = false;
        enter('awaiting_retry', outcome);
        status.retryDeadline = new Date(Date.now() + plan.settings.retryWindowMs).toISOString();
        await recordProgress({
          notificationId: input.notificationId,
          status: outcome,
          failed: failedChannels(status),
        });
        const retried = await condition(() => retryRequested, plan.settings.retryWindowMs);
        delete status.retryDeadline;
        if (!retried) return outcome;
        status.retries += 1;
      }
    });
    await finish(outcome);
    await webhooks.drain();
    return outcome;
  } catch (error) {
    // The broadcast it belongs to was cancelled (a delivery or the resolve found its row so): the
    // notification ends cancelled as if asked, and deliveries still running on other channels stop.
    // Histories recorded before never fail so, and replay as they ran.
    const broadcastStop = broadcastCancellation(error);
    if (broadcastStop !== undefined) cancel(broadcastStop);
    else if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(async () => {
      await finish('cancelled', cancelledBy ?? 'the workflow was cancelled');
      await webhooks.drain();
    });
    // A cancel from Temporal itself (UI, CLI) leaves the workflow cancelled; our own ends it normally.
    if (!cancelledBy) throw error;
    return 'cancelled';
  }

  function enter(state: WorkflowStatus['state'], searchStatus: NotificationStatus): void {
    status.state = state;
    showDeliveryStatus(searchStatus);
  }

  /** The `DeliveryStatus` search attribute operators filter on in the Temporal UI, with others that changed. */
  function showDeliveryStatus(value: NotificationStatus, also: SearchAttributeUpdatePair[] = []): void {
    if (value === shownStatus && also.length === 0) return;
    shownStatus = value;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.DeliveryStatus, value }, ...also]);
  }

  async function finish(outcome: NotificationOutcome, reason?: string): Promise<void> {
    closing = true;
    if (outcome === 'cancelled') {
      for (const channel of Object.values(status.channels))
        if (channel.state === 'pending' || channel.state === 'sending') channel.state = 'cancelled';
    }
    await completeNotification({
      notificationId: input.notificationId,
      outcome,
      failed: failedChannels(status),
      reason,
      ...(input.flow ? { flowTrace } : {}),
    });
    status.outcome = outcome;
    enter(outcome === 'cancelled' ? 'cancelled' : 'completed', outcome);
    // A failure already announced when the retry window opened is not announced again as it closes.
    webhooks.announce(outcome, { unlessRepeated: true });
  }
}

function outcomeOf(lanes: readonly Lane[]): NotificationOutcome {
  const sent = lanes.filter((lane) => lane.sent).length;
  return sent === lanes.length ? 'sent' : sent === 0 ? 'failed' : 'partially_sent';
}

function failedChannels(status: WorkflowStatus) {
  return Object.entries(status.channels)
    .filter(([, c]) => c.state === 'failed')
    .map(([channel, c]) => ({
      channel: channel as keyof typeof status.channels,
      error: c.error ?? 'failed',
    }));
}

function refuseUnless(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}
