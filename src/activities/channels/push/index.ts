import { createHash } from 'node:crypto';
import type https from 'node:https';
import webpush from 'web-push';
import type { Db } from '../../../store/db.js';
import type { Logger } from '../../../platform/logger.js';
import {
  parseRetryAfter,
  PermanentChannelError,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
  type OutgoingMessage,
  type Recipient,
} from '../channel.js';
import { pushConfig } from './config.js';
import { sendPushRequest } from './request.js';
import { checkVapid, createVapidAuthorizations, type VapidKeys } from './vapid.js';
import { FORBIDDEN_ADDRESS, assertOutboundUrl, type OutboundPolicy } from '../../../platform/outbound.js';

export interface PushOptions {
  vapid: VapidKeys;
  ttlSeconds: number;
  db: Db;
  logger: Logger;
  /** Where push endpoints may be (OUTBOUND_ALLOWED_HOSTS): checked before sending and when connecting. */
  outbound: OutboundPolicy;
  /** An agent of the caller's (tests; its lookup is theirs); otherwise one whose lookup is the policy's. */
  agent?: https.Agent;
  /** Extra CA to trust (a local push service with a self-signed certificate). */
  ca?: string | Buffer;
  requestTimeoutMs?: number;
}

type Subscription = Recipient['pushSubscriptions'][number];

/** A push failure judged once, where the responses are known; classify() passes it through. */
export class PushDeliveryError extends Error {
  override name = 'PushDeliveryError';
  constructor(
    message: string,
    readonly failure: FailureClass,
  ) {
    super(message);
  }
}

/** What the browser's service worker receives, as JSON. */
export function pushPayload(message: OutgoingMessage) {
  return {
    notificationId: message.notificationId,
    title: message.title,
    body: message.body,
    url: typeof message.data.url === 'string' ? message.data.url : undefined,
    data: message.data,
    category: message.category,
  };
}

/**
 * The Topic header: at most 32 characters of URL-safe base64. The same notification always gets the same
 * topic, so a resend replaces a copy the push service still holds instead of showing twice.
 */
export const pushTopic = (notificationId: string): string =>
  createHash('sha256').update(notificationId).digest('base64url').slice(0, 32);

const isGone = (status: number) => status === 404 || status === 410;

/** How the push service's answer to one request should be treated (RFC 8030, RFC 8292). */
function classifyResponse(error: webpush.WebPushError): FailureClass {
  const status = error.statusCode;
  // The status and a short classification only: the push service's body is never echoed to callers.
  if (isGone(status)) return { permanent: true, reason: `push ${status}: subscription gone` };
  if (status === 413) return { permanent: true, reason: 'push 413: payload too large' };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(error.headers?.['retry-after']);
    return {
      permanent: false,
      reason: 'push 429: rate limited',
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
  if (status === 408) return { permanent: false, reason: 'push 408: request timeout' };
  if (status === 401 || status === 403) {
    return { permanent: true, reason: `push ${status}: VAPID credentials rejected` };
  }
  if (status >= 500) return { permanent: false, reason: `push ${status}: push service error` };
  return { permanent: true, reason: `push ${status}: request refused` };
}

export function classifyPushError(error: unknown): FailureClass {
  if (error instanceof PushDeliveryError) return error.failure;
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof webpush.WebPushError) return classifyResponse(error);
  const e = error as { code?: string; message?: string };
  // A private address stays private: retrying reaches the same one.
  if (e.code === FORBIDDEN_ADDRESS)
    return { permanent: true, reason: `push endpoint refused: its address is not public (${e.code})` };
  // Connection refused, TLS trouble, DNS, web-push's "Socket timeout": the push service may come back.
  // Only the code: a network error's message names hosts and addresses.
  if (e.code) return { permanent: false, reason: `push network error (${e.code})` };
  return {
    permanent: false,
    reason: /timeout/i.test(e.message ?? '') ? 'push network error (timeout)' : 'push network error',
  };
}

/** web-push would throw on these too, but as plain errors that look like network trouble. */
function malformedKeys(subscription: Subscription): boolean {
  return (
    Buffer.from(subscription.p256dh, 'base64url').length !== 65 ||
    Buffer.from(subscription.auth, 'base64url').length < 16
  );
}

type Outcome = { subscription: Subscription } & (
  { kind: 'accepted' } | { kind: 'gone'; failure: FailureClass } | { kind: 'failed'; failure: FailureClass }
);

const distinctReasons = (outcomes: Outcome[]) =>
  [...new Set(outcomes.flatMap((o) => (o.kind === 'accepted' ? [] : [o.failure.reason])))].join('; ');

/** Requests to one user's subscriptions in flight at once. */
const SEND_CONCURRENCY = 4;

/** `Promise.all(items.map(fn))` with at most `limit` calls running at a time, results in order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createPushChannel(options: PushOptions): ChannelProvider {
  checkVapid(options.vapid);
  const { db } = options;
  const logger = options.logger.child({ channel: 'push' });
  const { outbound } = options;
  // Our own agent for an extra CA; otherwise the policy's, whose lookup refuses private addresses.
  const ownAgent = options.ca && !options.agent ? outbound.httpsAgentWith({ ca: options.ca }) : undefined;
  const agent = options.agent ?? ownAgent ?? outbound.httpsAgent;
  const vapidAuthorization = createVapidAuthorizations(options.vapid);
  const requestOptions: webpush.RequestOptions = {
    TTL: options.ttlSeconds,
    urgency: 'normal',
    // A socket idle timeout; the attempt's signal bounds the whole send.
    timeout: options.requestTimeoutMs ?? 10_000,
    agent,
  };

  async function deactivate(subscription: Subscription, log: object): Promise<void> {
    try {
      // `active: true` keeps the first deactivation time when a retry meets the same 410 again.
      await db.pushSubscription.updateMany({
        where: { id: subscription.id, active: true },
        data: { active: false, deactivatedAt: new Date() },
      });
      logger.info(log, 'push subscription gone: deactivated');
    } catch (error) {
      // The push service keeps answering 410, so a later send deactivates it; the outcome stands.
      logger.warn({ ...log, err: error }, 'push subscription gone, but could not be deactivated');
    }
  }

  async function sendOne(
    subscription: Subscription,
    message: OutgoingMessage,
    payload: string,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    // Only the push service's host is logged: the endpoint's path is the subscription's secret capability.
    const log = {
      notificationId: message.notificationId,
      subscriptionId: subscription.id,
      pushService: URL.canParse(subscription.endpoint) ? new URL(subscription.endpoint).host : 'invalid',
    };
    if (malformedKeys(subscription)) {
      const failure = { permanent: true, reason: 'push subscription keys are malformed' };
      logger.warn({ ...log, reason: failure.reason }, 'push failed');
      return { subscription, kind: 'failed', failure };
    }
    try {
      // A literal address never reaches the agent's lookup: checked here.
      assertOutboundUrl(outbound, subscription.endpoint);
      await sendPushRequest(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
        payload,
        {
          ...requestOptions,
          topic: pushTopic(message.notificationId),
          headers: { Authorization: vapidAuthorization(subscription.endpoint) },
        },
        signal,
      );
      return { subscription, kind: 'accepted' };
    } catch (error) {
      const failure = classifyPushError(error);
      if (error instanceof webpush.WebPushError && isGone(error.statusCode)) {
        await deactivate(subscription, { ...log, reason: failure.reason });
        return { subscription, kind: 'gone', failure };
      }
      logger.warn({ ...log, reason: failure.reason }, 'push failed');
      return { subscription, kind: 'failed', failure };
    }
  }

  return {
    channel: 'push',
    async send(recipient, message, attempt) {
      const subscriptions = recipient.pushSubscriptions;
      if (subscriptions.length === 0)
        throw new PermanentChannelError('the user has no active push subscription');
      const payload = JSON.stringify(pushPayload(message));
      const outcomes = await mapBounded(subscriptions, SEND_CONCURRENCY, (s) =>
        sendOne(s, message, payload, attempt?.signal),
      );

      const accepted = outcomes.filter((o) => o.kind === 'accepted').length;
      // Reaching one of the user's devices delivers the notification. Failing the attempt over another
      // device's 5xx would make Temporal retry the whole send and show it twice on the devices that accepted.
      if (accepted > 0) return { providerMessageId: `${accepted}/${outcomes.length} subscriptions accepted` };

      if (outcomes.every((o) => o.kind === 'gone')) {
        const message = 'every push subscription is gone';
        throw new PushDeliveryError(message, {
          permanent: true,
          reason: `${message} (${distinctReasons(outcomes)})`,
        });
      }
      // Retried while any subscription may still come back; a retry only reaches the still-active ones.
      const transient = outcomes.flatMap((o) =>
        o.kind === 'failed' && !o.failure.permanent ? [o.failure] : [],
      );
      // Wait as long as the most insistent push service asked.
      const delays = transient.flatMap((f) => (f.retryAfterMs === undefined ? [] : [f.retryAfterMs]));
      const reason = distinctReasons(outcomes);
      throw new PushDeliveryError(`no push subscription accepted the message: ${reason}`, {
        permanent: transient.length === 0,
        reason,
        ...(delays.length > 0 && { retryAfterMs: Math.max(...delays) }),
      });
    },
    classify: classifyPushError,
    async close() {
      ownAgent?.destroy();
    },
  };
}

export const pushChannel: ChannelDefinition = {
  channel: 'push',
  label: 'Browser push',
  config: pushConfig,
  composeProfiles: ['push'],
  hasAddress: (recipient) => recipient.pushSubscriptions.length > 0,
  isConfigured: (config) => Boolean(config.vapid.publicKey && config.vapid.privateKey),
  create: (config, context) =>
    createPushChannel({
      vapid: {
        publicKey: config.vapid.publicKey!,
        privateKey: config.vapid.privateKey!,
        subject: config.vapid.subject,
      },
      ttlSeconds: config.push.ttlSeconds,
      db: context.db,
      logger: context.logger,
      ca: context.ca,
      outbound: config.outbound,
    }),
};
