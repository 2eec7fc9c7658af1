import http from 'node:http';
import https from 'node:https';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { FORBIDDEN_ADDRESS, assertOutboundUrl, type OutboundPolicy } from '../platform/outbound.js';
import { providerCall } from '../platform/telemetry.js';
import { signWebhook } from '../domain/webhook-signature.js';
import type { WebhookEvent } from '../workflows/webhooks.js';
import { parseRetryAfter, systemCode } from './channels/channel.js';

export interface WebhookDeliveryInput {
  endpointId: string;
  event: WebhookEvent;
}

export type WebhookDeliveryResult =
  { delivered: true; responseStatus: number } | { delivered: false; reason: string };

// Reasons are stored and shown to the caller: a status or an error code, never the receiver's answer or
// a network error's message (it can name internal hosts and addresses).
const reasonOf = (error: unknown): string => {
  if ((error as Error)?.name === 'TimeoutError') return 'the receiver did not answer in time';
  const code = systemCode(error);
  if (code === FORBIDDEN_ADDRESS) return `the receiver's address is not public (${code})`;
  return code ? `the receiver is unreachable (${code})` : 'the receiver is unreachable';
};

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * POSTs the body and resolves with the answer's status and Retry-After, without reading the answer's
 * body. Connections go through the outbound policy's agents, whose lookup refuses private addresses.
 */
function post(
  url: string,
  options: { headers: Record<string, string>; body: string; timeoutMs: number; signal: AbortSignal },
  outbound: OutboundPolicy,
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    let settled = false;
    const finish = (error?: Error, answer?: { status: number; retryAfter?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(answer!);
    };
    const request = (secure ? https : http).request(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body).toString() },
        agent: secure ? outbound.httpsAgent : outbound.httpAgent,
      },
      (response) => {
        const retryAfter = response.headers['retry-after'];
        finish(undefined, { status: response.statusCode ?? 0, retryAfter });
        // The answer's body is not read: only its status counts.
        response.destroy();
      },
    );
    const timer = setTimeout(() => {
      const error = new TimeoutError('the receiver did not answer in time');
      finish(error);
      request.destroy(error);
    }, options.timeoutMs);
    const onAbort = () => {
      const error = new Error('cancelled');
      error.name = 'AbortError';
      finish(error);
      request.destroy(error);
    };
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(error));
    request.end(options.body);
  });
}

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

export function createWebhookActivities(deps: {
  db: Db;
  logger: Logger;
  timeoutMs: number;
  /** Where receivers may be (OUTBOUND_ALLOWED_HOSTS); checked again when connecting. */
  outbound: OutboundPolicy;
}) {
  const { db, logger, timeoutMs, outbound } = deps;
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
    let response: { status: number; retryAfter?: string };
    try {
      // A literal address never reaches the agent's lookup: checked here (the allow-list may have changed).
      assertOutboundUrl(outbound, endpoint.url);
      // A redirect is an answer that is not 2xx (node:http does not follow it): following it would send
      // the event somewhere unregistered.
      const host = new URL(endpoint.url).hostname;
      response = await providerCall('webhook POST', { 'server.address': host }, () =>
        post(
          endpoint.url,
          {
            headers: { 'content-type': 'application/json', 'user-agent': 'Herald-Webhooks/1', ...headers },
            body,
            timeoutMs,
            signal: context.cancellationSignal,
          },
          outbound,
        ),
      );
    } catch (error) {
      const reason = reasonOf(error);
      const forbidden = systemCode(error) === FORBIDDEN_ADDRESS;
      await record(input, {
        status: forbidden ? 'failed' : 'retrying',
        attempts,
        responseStatus: null,
        lastError: reason,
      });
      logger.warn({ endpointId, eventId: event.id, attempts }, `webhook not delivered: ${reason}`);
      // Retrying reaches the same address: a refused one fails at once.
      if (forbidden) throw ApplicationFailure.nonRetryable(reason, 'WebhookForbidden');
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
      nextRetryDelay: parseRetryAfter(response.retryAfter),
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
