import type { Logger } from '../../../platform/logger.js';
import {
  createInFlightSends,
  parseRetryAfter,
  PermanentChannelError,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
} from '../channel.js';
import type { Config } from '../../../platform/config.js';
import { smsConfig } from './config.js';
import { twilioProvider } from './twilio/index.js';
import { phoneNumber } from './address.js';
import { outgoingSms } from './outgoing.js';
import { countSegments, smsEncoding } from './text.js';
import { classifyTransportError, withoutPhoneNumbers } from './errors.js';

// The SMS channel, whose provider SMS_PROVIDER chooses (SMS_PROVIDERS, at the end): the `http` provider
// here (POST JSON { to, text } with a bearer token; 2xx { id }) or Twilio (twilio/). The text itself is
// rendered and measured in text.ts.

export interface SmsHttpOptions {
  url: string;
  token?: string;
  maxSegments: number;
  /** One request including its response body; well inside the delivery activity's own timeout. */
  timeoutMs?: number;
  logger?: Logger;
}

const DETAIL_LIMIT = 200;

/** A non-2xx answer from the SMS gateway; `body` is already cut short and free of phone numbers. */
export class SmsGatewayError extends Error {
  override name = 'SmsGatewayError';
  constructor(
    readonly status: number,
    readonly body: string,
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(`SMS gateway ${status}: ${detail}`);
  }
}

/** The gateway's own words: a JSON `message`/`error`/`detail`/`title`, else the body as text. */
function errorDetail(body: string, statusText: string): string {
  let detail = body;
  try {
    const json: unknown = JSON.parse(body);
    const fields = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    for (const key of ['message', 'error', 'detail', 'title', 'description']) {
      const value = fields[key];
      // `{"error": "..."}` and `{"error": {"message": "..."}}` are both common.
      const text = typeof value === 'string' ? value : (value as { message?: unknown } | null)?.message;
      if (typeof text === 'string' && text.trim()) {
        detail = text;
        break;
      }
    }
  } catch {
    // Not JSON: the text itself is the detail.
  }
  detail = detail.replace(/\s+/g, ' ').trim();
  if (detail.length > DETAIL_LIMIT) detail = detail.slice(0, DETAIL_LIMIT - 1) + '…';
  return detail || statusText || 'no details';
}

function providerMessageId(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined; // The gateway accepted the message; a missing id only costs the cross-reference.
  }
}

/** 4xx describes the request and will not change; 408, 429, 5xx and the network may pass. */
export function classifySmsError(error: unknown): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof SmsGatewayError) {
    const { status, retryAfterMs } = error;
    if (status === 408 || status === 429 || status >= 500) {
      return retryAfterMs === undefined
        ? { permanent: false, reason: error.message }
        : { permanent: false, reason: error.message, retryAfterMs };
    }
    // Every message fails alike until an operator fixes the configuration and retries the deliveries.
    if (status === 401 || status === 403) {
      return { permanent: true, reason: `${error.message} (check SMS_HTTP_TOKEN)` };
    }
    if (status === 404 || status === 405) {
      return { permanent: true, reason: `${error.message} (check SMS_HTTP_URL)` };
    }
    return { permanent: true, reason: error.message };
  }
  return classifyTransportError(error, 'SMS gateway');
}

export function createSmsChannel(options: SmsHttpOptions): ChannelProvider {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const inFlight = createInFlightSends('SMS');

  return {
    channel: 'sms',
    async send(recipient, message, attempt) {
      const { to, text } = outgoingSms(recipient, message, options.maxSegments);
      inFlight.throwIfClosed();

      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...(options.token && { Authorization: `Bearer ${options.token}` }),
          // Stable per notification and channel: a retry after a lost answer is not a second SMS.
          'Idempotency-Key': `${message.notificationId}.sms`,
        },
        body: JSON.stringify({ to, text }),
        signal: inFlight.requestSignal(attempt, timeoutMs),
      });
      const body = withoutPhoneNumbers(await response.text(), to);
      if (!response.ok) {
        const retryAfterMs =
          response.status === 429 || response.status === 503
            ? parseRetryAfter(response.headers.get('retry-after'))
            : undefined;
        throw new SmsGatewayError(
          response.status,
          body.slice(0, 2000),
          errorDetail(body, response.statusText),
          retryAfterMs,
        );
      }
      const id = providerMessageId(body);
      options.logger?.debug(
        {
          notificationId: message.notificationId,
          encoding: smsEncoding(text),
          segments: countSegments(text),
          providerMessageId: id,
        },
        'SMS accepted by the gateway',
      );
      return { providerMessageId: id };
    },
    classify: classifySmsError,
    async close() {
      inFlight.close();
    },
  };
}

/** One of the providers SMS_PROVIDER chooses from: whether its settings are complete, and the provider. */
export interface SmsProviderChoice {
  isConfigured(config: Config): boolean;
  create(config: Config, logger: Logger): ChannelProvider;
}

const SMS_PROVIDERS: Record<NonNullable<Config['sms']['provider']>, SmsProviderChoice> = {
  http: {
    isConfigured: (config: Config) => Boolean(config.sms.url),
    create: (config: Config, logger: Logger) =>
      createSmsChannel({
        url: config.sms.url!,
        token: config.sms.token,
        maxSegments: config.sms.maxSegments,
        logger,
      }),
  },
  twilio: twilioProvider,
};

export const smsChannel: ChannelDefinition = {
  channel: 'sms',
  label: 'SMS',
  config: smsConfig,
  // Its slice, and the secret that signs the acknowledge link a notification may carry.
  workerEnvironment: [...Object.keys(smsConfig.variables), 'PREFERENCES_SECRET'],
  composeProfiles: ['sms'],
  contact: phoneNumber,
  hasAddress: (recipient) => Boolean(recipient.contacts.sms),
  isConfigured: (config) =>
    config.sms.provider !== undefined && SMS_PROVIDERS[config.sms.provider].isConfigured(config),
  create: (config, context) =>
    SMS_PROVIDERS[config.sms.provider!].create(config, context.logger.child({ channel: 'sms' })),
};
