// The `twilio` SMS provider: Twilio's Programmable Messaging REST API (a form POST to Messages.json with
// basic auth), asking for status callbacks, whose receipts the API records (receipts.ts).
import type { Logger } from '../../../../platform/logger.js';
import {
  createInFlightSends,
  parseRetryAfter,
  PermanentChannelError,
  type ChannelProvider,
  type FailureClass,
} from '../../channel.js';
import { classifyTransportError, withoutPhoneNumbers } from '../errors.js';
import { outgoingSms } from '../outgoing.js';
import { countSegments } from '../text.js';

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  /** Twilio's REST API base URL, without a trailing slash. */
  apiUrl: string;
  /** Where Twilio POSTs this message's status callbacks: <PUBLIC_URL>/providers/twilio/status. */
  statusCallback: string;
  maxSegments: number;
  /** One request including its response body; well inside the delivery activity's own timeout. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Error codes that describe the recipient, not the moment: an invalid number (21211), a landline or a
 * number that cannot take SMS (21614), a recipient who replied STOP (21610). Retrying cannot help.
 */
const PERMANENT_CODES = new Set([21211, 21614, 21610]);
/** Twilio's "too many requests" (HTTP 429 carries it too). */
const RATE_LIMITED = 20429;
const DETAIL_LIMIT = 200;

/** A non-2xx answer from Twilio: its error JSON is {code, message, more_info, status}. */
export class TwilioApiError extends Error {
  override name = 'TwilioApiError';
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(`Twilio ${code ?? status}: ${detail}`);
  }
}

/** Twilio's code and message from its error JSON; a proxy's HTML or text answer has neither. */
function twilioError(body: string): { code?: number; message?: string } {
  try {
    const { code, message } = JSON.parse(body) as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'number' && Number.isInteger(code) ? code : undefined,
      message: typeof message === 'string' ? message : undefined,
    };
  } catch {
    return {};
  }
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > DETAIL_LIMIT ? flat.slice(0, DETAIL_LIMIT - 1) + '…' : flat;
}

/** 21211, 21614, 21610 and other 4xx are permanent; 408, 429 (20429), 5xx and the network may pass. */
export function classifyTwilioError(error: unknown): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof TwilioApiError) {
    const { status, code, retryAfterMs } = error;
    if (code !== undefined && PERMANENT_CODES.has(code)) return { permanent: true, reason: error.message };
    if (status === 408 || status === 429 || code === RATE_LIMITED || status >= 500) {
      return retryAfterMs === undefined
        ? { permanent: false, reason: error.message }
        : { permanent: false, reason: error.message, retryAfterMs };
    }
    // Every message fails alike until an operator fixes the configuration and retries the deliveries.
    if (status === 401 || status === 403)
      return { permanent: true, reason: `${error.message} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)` };
    if (status === 404) return { permanent: true, reason: `${error.message} (check TWILIO_API_URL)` };
    return { permanent: true, reason: error.message };
  }
  return classifyTransportError(error, 'Twilio');
}

export function createTwilioSms(options: TwilioSmsOptions): ChannelProvider {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const inFlight = createInFlightSends('SMS');
  const endpoint = `${options.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;

  return {
    channel: 'sms',
    async send(recipient, message, attempt) {
      const { to, text } = outgoingSms(recipient, message, options.maxSegments);
      inFlight.throwIfClosed();

      const form = new URLSearchParams({ To: to, Body: text, StatusCallback: options.statusCallback });
      if (options.from) form.set('From', options.from);
      if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
      // Twilio's API takes no idempotency key: a retry after a lost answer may send a second SMS.
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { Authorization: authorization, Accept: 'application/json' },
        body: form,
        signal: inFlight.requestSignal(attempt, timeoutMs),
      });
      const body = withoutPhoneNumbers(await response.text(), to);
      if (!response.ok) {
        const { code, message: detail } = twilioError(body);
        throw new TwilioApiError(
          response.status,
          code,
          shorten(detail ?? body) || response.statusText || 'no details',
          parseRetryAfter(response.headers.get('retry-after')),
        );
      }
      const { sid } = twilioMessage(body);
      options.logger?.debug(
        { notificationId: message.notificationId, segments: countSegments(text), providerMessageId: sid },
        'SMS accepted by Twilio',
      );
      return { providerMessageId: sid };
    },
    classify: classifyTwilioError,
    async close() {
      inFlight.close();
    },
  };
}

/** The created Message resource; without its SID, receipts cannot find the delivery (nothing worse). */
function twilioMessage(body: string): { sid?: string } {
  try {
    const { sid } = JSON.parse(body) as { sid?: unknown };
    return { sid: typeof sid === 'string' && sid ? sid : undefined };
  } catch {
    return {};
  }
}
