import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { DeliverActivity, NotificationActivities } from '../activities/index.js';
import {
  SEARCH_ATTRIBUTES,
  channelQueue,
  deliverActivityName,
  statusQuery,
  type ChannelName,
  type NotificationInput,
  type NotificationOutcome,
  type NotificationStatus,
} from './definitions.js';
import { DELIVERY_GIVE_UP_AFTER, deliveryRetryPolicy } from './policies.js';

const { resolveRecipient, completeNotification } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

function deliveryActivity(channel: ChannelName): DeliverActivity {
  const options: ActivityOptions = {
    taskQueue: channelQueue(channel),
    // Bounds how long a delivery lost with a crashed worker waits before it is retried.
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: DELIVERY_GIVE_UP_AFTER,
    retry: deliveryRetryPolicy(channel),
  };
  return proxyActivities<Record<string, DeliverActivity>>(options)[deliverActivityName(channel)]!;
}

/** One notification: resolve the recipient, deliver on each planned channel in parallel, record the outcome. */
export async function notificationWorkflow(input: NotificationInput): Promise<NotificationOutcome> {
  const status: NotificationStatus = { state: 'resolving', channels: {} };
  setHandler(statusQuery, () => status);
  // NotificationId, UserId and Category are set when the workflow starts; the status moves with it.

  if (input.sendAt) {
    const wait = Date.parse(input.sendAt) - Date.now(); // workflow time: deterministic
    if (wait > 0) {
      status.state = 'scheduled';
      setDeliveryStatus('scheduled');
      await sleep(wait);
    }
  }
  status.state = 'resolving';
  setDeliveryStatus('processing');
  const plan = await resolveRecipient(input);
  for (const { channel, reason } of plan.skipped)
    status.channels[channel] = { state: 'skipped', error: reason };
  for (const channel of plan.planned) status.channels[channel] = { state: 'pending' };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.Channels, value: plan.planned }]);

  status.state = 'delivering';
  const failed: { channel: ChannelName; error: string }[] = [];
  await Promise.all(
    plan.planned.map(async (channel) => {
      status.channels[channel] = { state: 'sending' };
      try {
        await deliveryActivity(channel)({ notificationId: input.notificationId });
        status.channels[channel] = { state: 'sent' };
      } catch (error) {
        const message = failureMessage(error);
        status.channels[channel] = { state: 'failed', error: message };
        failed.push({ channel, error: message });
      }
    }),
  );

  const outcome: NotificationOutcome =
    plan.planned.length === 0
      ? 'skipped'
      : failed.length === 0
        ? 'sent'
        : failed.length === plan.planned.length
          ? 'failed'
          : 'partially_sent';
  await completeNotification({ notificationId: input.notificationId, outcome, failed });
  status.state = 'completed';
  setDeliveryStatus(outcome);
  return outcome;
}

function setDeliveryStatus(value: string): void {
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.DeliveryStatus, value }]);
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
    return error.cause.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
