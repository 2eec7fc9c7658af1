import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../store/db.js';
import { countDelivery } from '../platform/metrics.js';
import {
  ACCEPTED_STATUSES,
  PERMANENT_FAILURE_TYPE,
  TRANSIENT_FAILURE_TYPE,
  type ChannelName,
} from '../workflows/definitions.js';
import type {
  AcknowledgeAction,
  ChannelProvider,
  FailureClass,
  OutgoingMessage,
  Recipient,
} from './channels/registry.js';
import type { AcknowledgementLinks } from '../domain/acknowledgement-links.js';
import { openAttempt, recordFailed, recordSent, type AttemptIds } from '../store/deliveries.js';
import { applyKeptReceipt, CHANNELS_WITH_RECEIPTS } from '../store/delivery-receipts.js';
import { broadcastCancelReason } from '../store/broadcasts.js';
import { BROADCAST_CANCELLED_REASON, BROADCAST_CANCELLED_TYPE } from '../workflows/broadcast-definitions.js';
import { resolveContent } from '../domain/template-rendering.js';
import { providerCall } from '../platform/telemetry.js';
import { startAttemptBudget, type AttemptBudget } from './attempt-budget.js';

export interface DeliveryInput {
  notificationId: string;
  /** The channel, for readable history; the activity's own channel decides. */
  channel?: ChannelName;
  /** The send carries an acknowledge action (a button, a signed link) for the recipient. */
  ack?: boolean;
  /** A flow step's content, in place of the notification's title/body/template. */
  content?: { title?: string; body?: string; template?: string };
}

export interface DeliveryResult {
  status: 'sent';
  providerMessageId?: string;
  /** True when an earlier attempt had already sent it: nothing was sent again. */
  alreadySent: boolean;
}

export interface DeliverOptions {
  defaultLocale: string;
  /** Signs acknowledge links and buttons; without it (no PREFERENCES_SECRET) only the inbox can acknowledge. */
  acknowledgementLinks?: AcknowledgementLinks;
}

/** The provider has it: sent, with or without a receipt since. Never sent again. */
const isAccepted = (status: string) => (ACCEPTED_STATUSES as readonly string[]).includes(status);

/**
 * One attempt to deliver a notification on one channel. Contacts and content are read here, not
 * carried in workflow history. Every attempt is recorded; a delivery already recorded as sent is
 * never sent again (activity retry, worker crash after recording, replay). An attempt keeps to its time
 * budget and does not send while an earlier one may still be talking to the provider (attempt-budget.ts).
 */
export function createDeliver(db: Db, provider: ChannelProvider, options: DeliverOptions) {
  const channel: ChannelName = provider.channel;
  return async function deliver({ notificationId, ack, content }: DeliveryInput): Promise<DeliveryResult> {
    const budget = startAttemptBudget();
    try {
      return await attempt(notificationId, budget, ack === true, content);
    } finally {
      budget.end();
    }
  };

  async function attempt(
    notificationId: string,
    budget: AttemptBudget,
    ack: boolean,
    stepContent?: DeliveryInput['content'],
  ): Promise<DeliveryResult> {
    // One statement: the delivery found (or created) and leased, the attempt opened, the content and
    // the recipient read.
    const delivery = await openAttempt(
      db,
      notificationId,
      channel,
      Context.current().info.attempt,
      budget.leaseMs,
    );
    // Deleted with its user: retrying cannot help.
    if (!delivery) {
      countDelivery(channel, 'skipped');
      throw ApplicationFailure.nonRetryable('the notification was deleted', PERMANENT_FAILURE_TYPE);
    }
    // Its broadcast was cancelled: nothing was opened. The workflow ends the notification cancelled, and
    // the delivery with it, with this failure's message as the reason (src/workflows/notification.ts):
    // the cancel's own when the API recorded one.
    if ('broadcastCancelled' in delivery) {
      countDelivery(channel, 'cancelled');
      const reason = (await broadcastCancelReason(db, notificationId)) ?? BROADCAST_CANCELLED_REASON;
      throw ApplicationFailure.nonRetryable(reason, BROADCAST_CANCELLED_TYPE);
    }
    if (isAccepted(delivery.status)) {
      // Another attempt sent it meanwhile (a receipt may have followed): nothing was opened, nothing to send.
      countDelivery(channel, 'skipped');
      // That attempt may have died before it looked for a receipt kept while it recorded the send.
      if (
        delivery.status === 'sent' &&
        delivery.providerMessageId &&
        CHANNELS_WITH_RECEIPTS.includes(channel)
      )
        await applyKeptReceipt(db, channel, delivery.providerMessageId);
      return {
        status: 'sent',
        providerMessageId: delivery.providerMessageId ?? undefined,
        alreadySent: true,
      };
    }
    if (!delivery.attemptId) {
      // Nothing opened, nothing recorded: Temporal tries again once the other attempt's lease ends.
      throw ApplicationFailure.create({
        message: `an earlier attempt may still be sending: its lease holds for ${delivery.leaseRemainingMs} ms`,
        type: TRANSIENT_FAILURE_TYPE,
        nextRetryDelay: delivery.leaseRemainingMs ?? undefined,
      });
    }
    const { notification, recipient } = delivery;

    const ids: AttemptIds = { attemptId: delivery.attemptId, deliveryId: delivery.id };

    let providerMessageId: string | undefined;
    try {
      const source = stepContent
        ? {
            ...notification,
            title: stepContent.title ?? null,
            body: stepContent.body ?? null,
            template: stepContent.template ?? null,
          }
        : notification;
      const content = await resolveContent(db, source, recipient.locale, options.defaultLocale);
      const message: OutgoingMessage = {
        notificationId,
        category: notification.category,
        ...content,
        data: (notification.data ?? {}) as Record<string, unknown>,
        ...(ack ? { acknowledge: acknowledgeAction(delivery.id, recipient) } : {}),
      };
      // A span for the provider's work (the channel's own spans, such as each SMTP server's, go under it).
      ({ providerMessageId } = await providerCall(`${channel} send`, { 'herald.channel': channel }, () =>
        provider.send(recipient, message, budget),
      ));
    } catch (error) {
      const stopped = budget.stoppedBecause();
      // However the provider's library words an aborted send, the attempt was stopped, and may be retried.
      const failure = stopped
        ? { permanent: false, reason: `${stopped} (${provider.classify(error).reason})` }
        : provider.classify(error);
      throw await recordFailure(ids, failure);
    }
    countDelivery(channel, 'sent');
    // Outside the try: a failure to record a sent message must not be judged as a failed send.
    await recordSent(db, ids, providerMessageId);
    return { status: 'sent', providerMessageId, alreadySent: false };
  }

  function acknowledgeAction(deliveryId: string, recipient: Recipient): AcknowledgeAction {
    const links = options.acknowledgementLinks;
    if (!links) return { deliveryId };
    return { deliveryId, url: links.url(deliveryId, recipient), buttonData: links.buttonData(deliveryId) };
  }

  /** Records a failed attempt and returns the failure Temporal should see: permanent ones are final. */
  async function recordFailure(ids: AttemptIds, failure: FailureClass) {
    countDelivery(channel, failure.permanent ? 'permanent_failure' : 'transient_failure');
    await recordFailed(db, ids, failure);
    return failure.permanent
      ? ApplicationFailure.nonRetryable(failure.reason, PERMANENT_FAILURE_TYPE)
      : ApplicationFailure.create({
          message: failure.reason,
          type: TRANSIENT_FAILURE_TYPE,
          nextRetryDelay: failure.retryAfterMs,
        });
  }
}
