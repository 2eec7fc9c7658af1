import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { signWebhook } from '../domain/webhook-signature.js';
import type { WebhookEvent } from '../workflows/webhooks.js';
import { parseRetryAfter, systemCode } from './channels/channel.js';

export interface WebhookDeliveryInput {
  endpointId: string;
  event: WebhookEvent;
}

export type WebhookDeliveryResult =
  { delivered: true; responseStatus: number } | { delivered: false; reason: string };

const reasonOf = (error: unknown): string => {
  if ((error as Error)?.name === 'TimeoutError') return 'the receiver did not answer in time';
  const code = systemCode(error);
  return code ? `the receiver is unreachable (${code})` : 'the receiver is unreachable';
};

type WebhookRecord = {
  status: 'retrying' | 'delivered' | 'failed';
  attempts?: number;
  responseStatus?: number | null;
  lastError?: string | null;
  deliveredAt?: Date;
};

/** One row per event and endpoint, updated by every attempt: the audit trail of a webhook. */
const recordWebhookDelivery = (db: Db, { endpointId, event }: WebhookDeliveryInput, fields: WebhookRecord) =>
  db.webhookDelivery.upsert({
    where: { endpointId_eventId: { endpointId, eventId: event.id } },
    create: {
      endpointId,
      eventId: event.id,
      eventType: event.type,
      notificationId: event.data.notificationId,
      ...fields,
    },
    update: fields,
  });

export function createWebhookActivities(deps: { db: Db; logger: Logger; timeoutMs: number }) {
  const { db, logger, timeoutMs } = deps;
  const record = (input: WebhookDeliveryInput, fields: WebhookRecord) =>
    recordWebhookDelivery(db, input, fields);

  /**
   * POSTs one event to one endpoint, signed anew for each attempt. Anything but 2xx is retried by
   * Temporal (a Retry-After sets the pause); delivery is at least once, so receivers drop repeated ids.
   */
  async function deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
    const { endpointId, event } = input;
    const context = Context.current();
    const attempts = context.info.attempt;
    const endpoint = await db.webhookEndpoint.findUnique({ where: { id: endpointId } });
    if (!endpoint || endpoint.deletedAt) return { delivered: false, reason: 'the endpoint was removed' };

    const body = JSON.stringify(event);
    const headers = signWebhook(endpoint.secret, event.id, Math.floor(Date.now() / 1000), body);
    let response: Response;
    try {
      response = await fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Herald-Webhooks/1', ...headers },
        body,
        // A redirect is an answer that is not 2xx: following it would send the event somewhere unregistered.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), context.cancellationSignal]),
      });
      // The answer's body is not read: only its status counts.
      await response.body?.cancel();
    } catch (error) {
      const reason = reasonOf(error);
      await record(input, { status: 'retrying', attempts, responseStatus: null, lastError: reason });
      logger.warn({ endpointId, eventId: event.id, attempts }, `webhook not delivered: ${reason}`);
      throw ApplicationFailure.retryable(reason, 'WebhookUnreachable');
    }

    if (response.status >= 200 && response.status < 300) {
      await record(input, {
        status: 'delivered',
        attempts,
        responseStatus: response.status,
        lastError: null,
        deliveredAt: new Date(),
      });
      return { delivered: true, responseStatus: response.status };
    }
    const reason = `the receiver answered ${response.status}`;
    await record(input, { status: 'retrying', attempts, responseStatus: response.status, lastError: reason });
    logger.warn({ endpointId, eventId: event.id, attempts }, `webhook not delivered: ${reason}`);
    throw ApplicationFailure.create({
      message: reason,
      type: 'WebhookRefused',
      nextRetryDelay: parseRetryAfter(response.headers.get('retry-after')),
    });
  }

  return { deliverWebhook };
}
export type WebhookActivities = ReturnType<typeof createWebhookActivities>;

/** The workflow gave up on an event (its retry time ran out): the record says so. */
export function createRecordWebhookFailure(db: Db) {
  return async function recordWebhookFailure(input: WebhookDeliveryInput & { error: string }): Promise<void> {
    const endpoint = await db.webhookEndpoint.findUnique({
      where: { id: input.endpointId },
      select: { id: true },
    });
    if (endpoint) await recordWebhookDelivery(db, input, { status: 'failed', lastError: input.error });
  };
}
