// Apple Push Notification service: HTTP/2 POST /3/device/<token>, authorised by a provider token (ES256,
// signed with the .p8 key) that is reused for 50 minutes: Apple refuses one older than an hour, and
// too frequent new ones.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { FailureClass, OutgoingMessage, PushDevice } from '../channel.js';
import { readCredential, refuse } from './credentials.js';
import { createHttp2Connection, type Http2Answer } from './http2-connection.js';
import { createTokenCache } from './token-cache.js';
import { networkFailure, transient, type TargetOutcome, type TargetSender } from './targets.js';
import { pushPayload, pushTopic } from './web-push.js';

export interface ApnsOptions {
  /** The .p8 key, read (readApnsKey). */
  key: KeyObject;
  keyId: string;
  teamId: string;
  /** The app's bundle id. */
  topic: string;
  /** APNS_API_URL: https://api.push.apple.com, the sandbox, or a fake. */
  apiUrl: string;
  ttlSeconds: number;
  ca?: string | Buffer;
  requestTimeoutMs?: number;
  /** The clock the provider token's times come from (tests move it). */
  now?: () => number;
}

/** APNS_KEY (the PEM, or a path to the .p8 file) as a P-256 key; a ConfigError says what is wrong. */
export function readApnsKey(value: string): KeyObject {
  const pem = readCredential('APNS_KEY', value, (v) => v.includes('-----BEGIN'));
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw refuse('APNS_KEY', 'is not a PEM private key (the .p8 file Apple gives)');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw refuse('APNS_KEY', 'is not a P-256 (ES256) key');
  return key;
}

/** The body APNs delivers: the alert the system shows, and Herald's fields beside `aps` for the app. */
/** The UNNotificationCategory identifier an app registers for Herald's Acknowledge action. */
export const APNS_ACKNOWLEDGE_CATEGORY = 'HERALD_ACKNOWLEDGE';

export function apnsPayload(message: OutgoingMessage) {
  const { notificationId, category, url, data, acknowledgeUrl } = pushPayload(message);
  return {
    aps: {
      alert: { title: message.title, body: message.body },
      'thread-id': category,
      // An actionable notification: the app registers this category with an Acknowledge action.
      ...(acknowledgeUrl !== undefined && { category: APNS_ACKNOWLEDGE_CATEGORY }),
    },
    notificationId,
    category,
    ...(url !== undefined && { url }),
    ...(acknowledgeUrl !== undefined && { acknowledgeUrl }),
    data,
  };
}

/** Apple asks for a new provider token at most every 20 minutes and at least every 60. */
const PROVIDER_TOKEN_REUSE_MS = 50 * 60_000;

/** Provider tokens, each signed when the last one is due and reused until then. */
function createProviderTokens(options: ApnsOptions, now: () => number) {
  return createTokenCache(async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: options.keyId })
      .setIssuer(options.teamId)
      .setIssuedAt(Math.floor(now() / 1000))
      .sign(options.key);
    return { token, renewAt: now() + PROVIDER_TOKEN_REUSE_MS };
  }, now);
}

/** Apple's reason, if it is one of its words: nothing else is echoed into a stored reason. */
function reasonOf(body: string): string {
  try {
    const { reason } = JSON.parse(body) as { reason?: unknown };
    if (typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason)) return reason;
  } catch {
    // No JSON: the status alone.
  }
  return 'error';
}

/** How APNs's answer to one send is treated; a device APNs calls gone is deactivated. */
export function classifyApnsAnswer(answer: Http2Answer): TargetOutcome {
  const { status } = answer;
  const why = reasonOf(answer.body);
  const reason = `APNs ${status}: ${why}`;
  const failed = (failure: FailureClass): TargetOutcome => ({ kind: 'failed', failure });
  if (status === 410 || (status === 400 && why === 'BadDeviceToken'))
    return { kind: 'gone', failure: { permanent: true, reason: `${reason} (the app left the device)` } };
  if (status === 429 || status >= 500) return failed(transient(reason, answer.headers['retry-after']));
  if (why === 'ExpiredProviderToken') return failed(transient(reason));
  if (status === 403)
    return failed({ permanent: true, reason: `${reason} (check APNS_KEY, APNS_KEY_ID and APNS_TEAM_ID)` });
  // The device is kept: with a wrong APNS_TOPIC every token looks like another app's.
  if (['DeviceTokenNotForTopic', 'BadTopic', 'TopicDisallowed', 'MissingTopic'].includes(why))
    return failed({ permanent: true, reason: `${reason} (check APNS_TOPIC)` });
  return failed({ permanent: true, reason });
}

export function createApnsSender(options: ApnsOptions): TargetSender<PushDevice> {
  const now = options.now ?? Date.now;
  const connection = createHttp2Connection(new URL(options.apiUrl).origin, {
    ca: options.ca,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const providerTokens = createProviderTokens(options, now);

  return {
    async send(device, message, attempt) {
      const token = await providerTokens.get();
      const ttl = options.ttlSeconds;
      let answer: Http2Answer;
      try {
        answer = await connection.post(
          `/3/device/${encodeURIComponent(device.token)}`,
          {
            authorization: `bearer ${token}`,
            'apns-topic': options.topic,
            'apns-push-type': 'alert',
            'apns-priority': '10',
            // 0 asks APNs to try once and keep nothing, as a TTL of 0 does elsewhere.
            'apns-expiration': String(ttl === 0 ? 0 : Math.floor(now() / 1000) + ttl),
            'apns-collapse-id': pushTopic(message.notificationId),
            'content-type': 'application/json',
          },
          JSON.stringify(apnsPayload(message)),
          attempt?.signal,
        );
      } catch (error) {
        return { kind: 'failed', failure: networkFailure('APNs', error) };
      }
      if (answer.status === 200) {
        const id = answer.headers['apns-id'];
        return { kind: 'accepted', ...(typeof id === 'string' && { providerMessageId: id }) };
      }
      // Apple called the token expired (a clock that drifted): the next send signs another. Only then:
      // signing anew on every refusal would earn TooManyProviderTokenUpdates.
      if (reasonOf(answer.body) === 'ExpiredProviderToken') providerTokens.invalidate(token);
      return classifyApnsAnswer(answer);
    },
    close: () => connection.close(),
  };
}
