// Browser push: web-push with VAPID to each subscription's push service (RFC 8030, 8291, 8292).
import { createHash } from 'node:crypto';
import type https from 'node:https';
import webpush from 'web-push';
import { FORBIDDEN_ADDRESS, assertOutboundUrl, type OutboundPolicy } from '../../../platform/outbound.js';
import {
  parseRetryAfter,
  PermanentChannelError,
  type FailureClass,
  type OutgoingMessage,
  type Recipient,
} from '../channel.js';
import { sendPushRequest } from './request.js';
import { PushDeliveryError, type TargetSender } from './targets.js';
import { checkVapid, createVapidAuthorizations, type VapidKeys } from './vapid.js';

export type Subscription = Recipient['pushSubscriptions'][number];

export interface WebPushOptions {
  vapid: VapidKeys;
  ttlSeconds: number;
  /** Where push endpoints may be (OUTBOUND_ALLOWED_HOSTS): checked before sending and when connecting. */
  outbound: OutboundPolicy;
  /** An agent of the caller's (tests; its lookup is theirs); otherwise one whose lookup is the policy's. */
  agent?: https.Agent;
  /** Extra CA to trust (a local push service with a self-signed certificate). */
  ca?: string | Buffer;
  requestTimeoutMs?: number;
}

/** What the browser's service worker receives, as JSON (and the phones, in their providers' shapes). */
export function pushPayload(message: OutgoingMessage) {
  return {
    notificationId: message.notificationId,
    title: message.title,
    body: message.body,
    url: typeof message.data.url === 'string' ? message.data.url : undefined,
    data: message.data,
    category: message.category,
    // The acknowledge link, when asked for: the service worker shows it as the notification's action.
    ...(message.acknowledge?.url !== undefined && { acknowledgeUrl: message.acknowledge.url }),
  };
}

/**
 * The Topic header (and the phones' collapse ids): at most 32 characters of URL-safe base64. The same
 * notification always gets the same topic, so a resend replaces a copy the push service still holds
 * instead of showing twice.
 */
export const pushTopic = (notificationId: string): string =>
  createHash('sha256').update(notificationId).digest('base64url').slice(0, 32);

export const isGone = (status: number) => status === 404 || status === 410;

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

export function createWebPushSender(options: WebPushOptions): TargetSender<Subscription> {
  checkVapid(options.vapid);
  const { outbound } = options;
  // Our own agent for an extra CA; otherwise the policy's, whose lookup refuses private addresses.
  const ownAgent = options.ca && !options.agent ? outbound.httpsAgentWith({ ca: options.ca }) : undefined;
  const vapidAuthorization = createVapidAuthorizations(options.vapid);
  const requestOptions: webpush.RequestOptions = {
    TTL: options.ttlSeconds,
    urgency: 'normal',
    // A socket idle timeout; the attempt's signal bounds the whole send.
    timeout: options.requestTimeoutMs ?? 10_000,
    agent: options.agent ?? ownAgent ?? outbound.httpsAgent,
  };

  return {
    async send(subscription, message, attempt) {
      if (malformedKeys(subscription))
        return {
          kind: 'failed',
          failure: { permanent: true, reason: 'push subscription keys are malformed' },
        };
      try {
        // A literal address never reaches the agent's lookup: checked here.
        assertOutboundUrl(outbound, subscription.endpoint);
        await sendPushRequest(
          { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
          JSON.stringify(pushPayload(message)),
          {
            ...requestOptions,
            topic: pushTopic(message.notificationId),
            headers: { Authorization: vapidAuthorization(subscription.endpoint) },
          },
          attempt?.signal,
        );
        return { kind: 'accepted' };
      } catch (error) {
        const failure = classifyPushError(error);
        const gone = error instanceof webpush.WebPushError && isGone(error.statusCode);
        return gone ? { kind: 'gone', failure } : { kind: 'failed', failure };
      }
    },
    async close() {
      ownAgent?.destroy();
    },
  };
}
