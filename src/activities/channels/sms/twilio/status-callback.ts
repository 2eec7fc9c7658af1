// Twilio's status callbacks: how Twilio signs them, and the delivery receipt each one amounts to. The API
// serves the route (src/api/twilio.ts); the provider asks Twilio to call it for every message it sends.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DeliveryReceipt } from '../../../../store/delivery-receipts.js';

/** Where Twilio POSTs status callbacks, under PUBLIC_URL. */
export const TWILIO_STATUS_PATH = '/providers/twilio/status';
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * X-Twilio-Signature: base64 of HMAC-SHA1, keyed by the auth token, over the full URL followed by each
 * POST parameter's name and value, sorted by name (a repeated name's values sorted too).
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  let data = url;
  for (const name of [...new Set(params.keys())].sort())
    for (const value of params.getAll(name).sort()) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URL as configured and with its default port added or removed: Twilio has signed some requests
 * with the port and some without (its own libraries try both).
 */
function portVariants(url: string): string[] {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '';
  if (!defaultPort || (parsed.port && parsed.port !== defaultPort)) return [url];
  const authority = url.indexOf('//') + 2;
  const pathStart = url.slice(authority).search(/[/?#]/);
  const tail = pathStart < 0 ? '' : url.slice(authority + pathStart);
  const base = `${parsed.protocol}//${parsed.hostname}`;
  return [url, `${base}${tail}`, `${base}:${defaultPort}${tail}`];
}

/** Whether the signature is Twilio's for this URL and body; compared in constant time. */
export function isSignedByTwilio(
  authToken: string,
  url: string,
  params: URLSearchParams,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  return portVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// What the common error codes of a message Twilio accepted but could not deliver mean.
const ERROR_MEANINGS: Record<string, string> = {
  '30001': 'queue overflow',
  '30002': 'account suspended',
  '30003': 'unreachable destination handset',
  '30004': 'message blocked',
  '30005': 'unknown destination handset',
  '30006': 'landline or unreachable carrier',
  '30007': 'filtered by the carrier',
  '30008': 'unknown error',
};

/**
 * The receipt a callback amounts to. `delivered` (or WhatsApp's `read`) confirms the delivery;
 * `undelivered` and `failed` report that it failed after Twilio accepted it, with Twilio's error code.
 * Undefined for the steps in between (queued, sending, sent...), which tell Herald nothing it has not
 * recorded: the message was accepted.
 */
export function receiptOf(params: URLSearchParams): DeliveryReceipt | undefined {
  const sid = params.get('MessageSid') ?? params.get('SmsSid');
  const status = params.get('MessageStatus') ?? params.get('SmsStatus');
  if (!sid || !status) return undefined;
  if (status === 'delivered' || status === 'read') return { providerMessageId: sid, status: 'delivered' };
  if (status !== 'undelivered' && status !== 'failed') return undefined;
  const code = params.get('ErrorCode');
  const reason =
    code && /^\d{1,6}$/.test(code)
      ? `Twilio ${status}: error ${code}${ERROR_MEANINGS[code] ? ` (${ERROR_MEANINGS[code]})` : ''}`
      : `Twilio ${status}: no error code given`;
  return { providerMessageId: sid, status: 'undelivered', reason };
}
