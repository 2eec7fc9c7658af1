// Firebase Cloud Messaging HTTP v1: one POST to messages:send per device, with the service account's
// access token (google-auth.ts). FCM says when a token is gone: UNREGISTERED, or a token it calls invalid.
import type { FailureClass, OutgoingMessage, PushDevice } from '../channel.js';
import { createAccessTokens, TokenEndpointError, type ServiceAccount } from './google-auth.js';
import { createHttpClient, type HttpAnswer } from './http-client.js';
import { networkFailure, transient, type TargetOutcome, type TargetSender } from './targets.js';
import { pushPayload, pushTopic } from './web-push.js';

export interface FcmOptions {
  serviceAccount: ServiceAccount;
  /** FCM_API_URL: https://fcm.googleapis.com, or a fake. */
  apiUrl: string;
  ttlSeconds: number;
  ca?: string | Buffer;
  requestTimeoutMs?: number;
  /** The clock the access token's times come from (tests move it). */
  now?: () => number;
}

/** FCM's message to one device: the notification the system shows, and Herald's fields as data. */
export function fcmMessage(token: string, message: OutgoingMessage, ttlSeconds: number) {
  const { notificationId, category, url, acknowledgeUrl } = pushPayload(message);
  const topic = pushTopic(message.notificationId);
  return {
    message: {
      token,
      notification: { title: message.title, body: message.body },
      // FCM's data values are strings: the caller's data travels as JSON.
      data: {
        notificationId,
        category,
        ...(url !== undefined && { url }),
        // The app adds an Acknowledge action that opens it (FCM has no action buttons of its own).
        ...(acknowledgeUrl !== undefined && { acknowledgeUrl }),
        data: JSON.stringify(message.data),
      },
      // A resend (same collapse key and tag) replaces a copy FCM holds or the phone shows.
      android: { ttl: `${ttlSeconds}s`, collapse_key: topic, notification: { tag: topic } },
    },
  };
}

interface FcmErrorBody {
  error?: {
    status?: string;
    message?: string;
    details?: { errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

/** FCM's own error code (details[].errorCode), else the API's status, and whether the token is to blame. */
function readError(body: string): { code: string; badToken: boolean } {
  let error: FcmErrorBody['error'];
  try {
    error = (JSON.parse(body) as FcmErrorBody).error;
  } catch {
    return { code: 'error', badToken: false };
  }
  const details = Array.isArray(error?.details) ? error.details : [];
  const code = details.find((d) => typeof d?.errorCode === 'string')?.errorCode ?? error?.status ?? 'error';
  const badToken =
    details.some((d) => d?.fieldViolations?.some((v) => v?.field === 'message.token')) ||
    /registration token/i.test(error?.message ?? '');
  // Codes are words; anything else is not echoed into a stored reason.
  return { code: /^[A-Z_]{1,40}$/.test(code) ? code : 'error', badToken };
}

/** How FCM's answer to one send is treated; a device FCM calls gone is deactivated. */
export function classifyFcmAnswer(answer: HttpAnswer): TargetOutcome {
  const { status } = answer;
  const { code, badToken } = readError(answer.body);
  const reason = `FCM ${status}: ${code}`;
  const failed = (failure: FailureClass): TargetOutcome => ({ kind: 'failed', failure });
  // Only FCM's own word retires a device: a 404 from a wrong FCM_API_URL would otherwise retire them all.
  if (code === 'UNREGISTERED')
    return { kind: 'gone', failure: { permanent: true, reason: `${reason} (the app left the device)` } };
  if (status === 400 && code === 'INVALID_ARGUMENT' && badToken)
    return { kind: 'gone', failure: { permanent: true, reason: `${reason} (invalid registration token)` } };
  if (status === 429 || status === 408 || status >= 500)
    return failed(transient(reason, answer.headers['retry-after']));
  if (code === 'THIRD_PARTY_AUTH_ERROR')
    return failed({
      permanent: true,
      reason: `${reason} (Firebase's APNs or web push credentials were refused)`,
    });
  // A new access token may pass: the next attempt fetches one.
  if (status === 401) return failed(transient(`${reason} (access token refused)`));
  // The device is kept: with a wrong service account every token looks like another project's.
  if (code === 'SENDER_ID_MISMATCH')
    return failed({
      permanent: true,
      reason: `${reason} (a token of another Firebase project: check FCM_SERVICE_ACCOUNT)`,
    });
  if (status === 403)
    return failed({
      permanent: true,
      reason: `${reason} (the service account may not send: check its roles)`,
    });
  if (status === 404)
    return failed({ permanent: true, reason: `${reason} (check FCM_API_URL and project_id)` });
  return failed({ permanent: true, reason });
}

function classifyTokenError(error: unknown): FailureClass {
  if (!(error instanceof TokenEndpointError)) return networkFailure('FCM token endpoint', error);
  const { status } = error;
  if (status === 429 || status === 408 || status >= 500) {
    return {
      ...transient(error.message),
      ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    };
  }
  return { permanent: true, reason: `${error.message} (check FCM_SERVICE_ACCOUNT)` };
}

export function createFcmSender(options: FcmOptions): TargetSender<PushDevice> {
  const http = createHttpClient({ ca: options.ca, timeoutMs: options.requestTimeoutMs ?? 10_000 });
  const { serviceAccount } = options;
  const tokens = createAccessTokens(serviceAccount, http, options.now);
  const sendUrl = `${options.apiUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(serviceAccount.projectId)}/messages:send`;

  return {
    async send(device, message, attempt) {
      const signal = attempt?.signal;
      let accessToken: string;
      try {
        accessToken = await tokens.get(signal);
      } catch (error) {
        return { kind: 'failed', failure: classifyTokenError(error) };
      }
      let answer: HttpAnswer;
      try {
        answer = await http.post(
          sendUrl,
          { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json; charset=utf-8' },
          JSON.stringify(fcmMessage(device.token, message, options.ttlSeconds)),
          signal,
        );
      } catch (error) {
        return { kind: 'failed', failure: networkFailure('FCM', error) };
      }
      if (answer.status === 200) {
        let name: unknown;
        try {
          ({ name } = JSON.parse(answer.body) as { name?: unknown });
        } catch {
          // Accepted all the same; only the cross-reference is missing.
        }
        return { kind: 'accepted', ...(typeof name === 'string' && { providerMessageId: name }) };
      }
      if (answer.status === 401) tokens.invalidate(accessToken);
      return classifyFcmAnswer(answer);
    },
    async close() {
      http.close();
    },
  };
}
