// The push channel: one switch for browsers and phones. A notification goes to every active browser
// subscription (Web Push) and device (FCM, APNs) of the user whose provider this deployment configured,
// and is delivered when any one of them accepts it. A target its provider calls gone is deactivated.
import type https from 'node:https';
import type { Db } from '../../../store/db.js';
import type { Logger } from '../../../platform/logger.js';
import type { OutboundPolicy } from '../../../platform/outbound.js';
import {
  PermanentChannelError,
  type ChannelDefinition,
  type ChannelProvider,
  type OutgoingMessage,
  type PushDevice,
  type Recipient,
  type SendAttempt,
} from '../channel.js';
import { createApnsSender, readApnsKey, type ApnsOptions } from './apns.js';
import { pushConfig } from './config.js';
import { createFcmSender, type FcmOptions } from './fcm.js';
import { readServiceAccount } from './google-auth.js';
import { mapBounded } from '../../../platform/bounded.js';
import { settle, type TargetOutcome, type TargetSender } from './targets.js';
import {
  classifyPushError,
  createWebPushSender,
  type Subscription,
  type WebPushOptions,
} from './web-push.js';

export { PushDeliveryError } from './targets.js';
export { classifyPushError, pushPayload, pushTopic } from './web-push.js';

/** What each provider needs besides what every one shares (the TTL, the extra CA, the timeout). */
type Own<T> = Omit<T, 'ttlSeconds' | 'ca' | 'requestTimeoutMs'>;

export interface PushOptions {
  /** Browser push; absent: browser subscriptions are left out. */
  vapid?: WebPushOptions['vapid'];
  /** FCM and APNs; absent: their devices are left out. */
  fcm?: Own<FcmOptions>;
  apns?: Own<ApnsOptions>;
  ttlSeconds: number;
  db: Db;
  logger: Logger;
  /** Where browser push endpoints may be (OUTBOUND_ALLOWED_HOSTS); FCM and APNs are the operator's. */
  outbound: OutboundPolicy;
  /** An agent of the caller's for Web Push (tests; its lookup is theirs). */
  agent?: https.Agent;
  /** Extra CA to trust (local providers with a self-signed certificate). */
  ca?: string | Buffer;
  requestTimeoutMs?: number;
}

/** Requests to one user's subscriptions and devices in flight at once. */
const SEND_CONCURRENCY = 4;

/** One subscription or device, ready to send to. */
interface Target {
  table: 'pushSubscription' | 'pushDevice';
  id: string;
  /** What the logs may say about it: ids and the provider, never an endpoint path or a token. */
  log: object;
  send(message: OutgoingMessage, attempt?: SendAttempt): Promise<TargetOutcome>;
}

const serviceHost = (endpoint: string) => (URL.canParse(endpoint) ? new URL(endpoint).host : 'invalid');

export function createPushChannel(options: PushOptions): ChannelProvider {
  const { db } = options;
  const logger = options.logger.child({ channel: 'push' });
  const shared = {
    ttlSeconds: options.ttlSeconds,
    ca: options.ca,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  const { vapid, outbound, agent } = options;
  const webPush = vapid && createWebPushSender({ ...shared, vapid, outbound, agent });
  const devices: Partial<Record<PushDevice['provider'], TargetSender<PushDevice>>> = {
    ...(options.fcm && { fcm: createFcmSender({ ...shared, ...options.fcm }) }),
    ...(options.apns && { apns: createApnsSender({ ...shared, ...options.apns }) }),
  };

  /** The recipient's targets this deployment can reach; the others have no provider configured. */
  function targetsOf(recipient: Recipient): Target[] {
    const subscriptions = webPush
      ? recipient.pushSubscriptions.map((s: Subscription): Target => ({
          table: 'pushSubscription',
          id: s.id,
          // Only the push service's host: the endpoint's path is the subscription's secret capability.
          log: { subscriptionId: s.id, pushService: serviceHost(s.endpoint) },
          send: (message, attempt) => webPush.send(s, message, attempt),
        }))
      : [];
    const phones = (recipient.pushDevices ?? []).flatMap((d): Target[] => {
      const sender = devices[d.provider];
      if (!sender) return [];
      return [
        {
          table: 'pushDevice',
          id: d.id,
          log: { deviceId: d.id, provider: d.provider },
          send: (m, attempt) => sender.send(d, m, attempt),
        },
      ];
    });
    return [...subscriptions, ...phones];
  }

  async function deactivate(target: Target, log: object): Promise<void> {
    // `active: true` keeps the first deactivation time when a retry meets the same answer again.
    const change = {
      where: { id: target.id, active: true },
      data: { active: false, deactivatedAt: new Date() },
    };
    try {
      await (target.table === 'pushDevice'
        ? db.pushDevice.updateMany(change)
        : db.pushSubscription.updateMany(change));
      logger.info(log, `push ${target.table === 'pushDevice' ? 'device' : 'subscription'} gone: deactivated`);
    } catch (error) {
      // The provider keeps saying so, so a later send deactivates it; the outcome stands.
      logger.warn({ ...log, err: error }, 'push target gone, but could not be deactivated');
    }
  }

  async function sendTo(
    target: Target,
    message: OutgoingMessage,
    attempt?: SendAttempt,
  ): Promise<TargetOutcome> {
    const log = { notificationId: message.notificationId, ...target.log };
    // Senders judge their own failures; anything they let through counts as one that may pass.
    const outcome = await target
      .send(message, attempt)
      .catch((error: unknown): TargetOutcome => ({ kind: 'failed', failure: classifyPushError(error) }));
    if (outcome.kind === 'gone') await deactivate(target, { ...log, reason: outcome.failure.reason });
    else if (outcome.kind === 'failed')
      logger.warn({ ...log, reason: outcome.failure.reason }, 'push failed');
    else if (outcome.providerMessageId)
      logger.debug({ ...log, providerMessageId: outcome.providerMessageId }, 'push accepted');
    return outcome;
  }

  return {
    channel: 'push',
    async send(recipient, message, attempt) {
      const targets = targetsOf(recipient);
      if (targets.length === 0) {
        const has = recipient.pushSubscriptions.length + (recipient.pushDevices?.length ?? 0) > 0;
        throw new PermanentChannelError(
          has
            ? "no provider is configured for the user's push subscriptions and devices"
            : 'the user has no active push subscription or device',
        );
      }
      const outcomes = await mapBounded(targets, SEND_CONCURRENCY, (t) => sendTo(t, message, attempt));
      const kinds = new Set(targets.map((t) => t.table));
      const names =
        kinds.size === 2
          ? { one: 'subscription and device', many: 'subscriptions and devices' }
          : kinds.has('pushDevice')
            ? { one: 'device', many: 'devices' }
            : { one: 'subscription', many: 'subscriptions' };
      return settle(outcomes, names);
    },
    classify: classifyPushError,
    async close() {
      await Promise.all([webPush?.close(), devices.fcm?.close(), devices.apns?.close()]);
    },
  };
}

export const pushChannel: ChannelDefinition = {
  channel: 'push',
  label: 'Push (browsers and phones)',
  config: pushConfig,
  // Its slice, and the secret that signs the acknowledge link a notification may carry.
  workerEnvironment: [...Object.keys(pushConfig.variables), 'PREFERENCES_SECRET'],
  composeProfiles: ['push'],
  hasAddress: (recipient) => recipient.pushSubscriptions.length + (recipient.pushDevices?.length ?? 0) > 0,
  isConfigured: (config) =>
    Boolean((config.vapid.publicKey && config.vapid.privateKey) || config.fcm || config.apns),
  create: (config, context) => {
    const { publicKey, privateKey, subject } = config.vapid;
    return createPushChannel({
      ...(publicKey && privateKey && { vapid: { publicKey, privateKey, subject } }),
      // Read here, once: a missing file or a malformed key stops the worker, naming the variable.
      ...(config.fcm && {
        fcm: { serviceAccount: readServiceAccount(config.fcm.serviceAccount), apiUrl: config.fcm.apiUrl },
      }),
      ...(config.apns && { apns: { ...config.apns, key: readApnsKey(config.apns.key) } }),
      ttlSeconds: config.push.ttlSeconds,
      db: context.db,
      logger: context.logger,
      ca: context.ca,
      outbound: config.outbound,
    });
  },
};
