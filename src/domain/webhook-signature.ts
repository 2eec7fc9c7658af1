// Signatures of Herald's delivery-status webhooks, in the Standard Webhooks scheme
// (https://www.standardwebhooks.com): HMAC-SHA256 over "<id>.<timestamp>.<body>" with the endpoint's
// secret, sent as `webhook-signature: v1,<base64>` beside `webhook-id` and `webhook-timestamp`.
// Receivers verify with verifyWebhook (or any Standard Webhooks library) and drop a webhook-id they saw.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const SECRET_PREFIX = 'whsec_';
/** How far a timestamp may be from the receiver's clock: older deliveries are refused as replays. */
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export const newWebhookSecret = (): string => SECRET_PREFIX + randomBytes(32).toString('base64');

const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');

const mac = (secret: string, id: string, timestamp: number, body: string): Buffer =>
  createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest();

/** The three headers of one delivery attempt; `timestamp` is in seconds since the epoch. */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<(typeof WEBHOOK_HEADERS)[keyof typeof WEBHOOK_HEADERS], string> {
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: `v1,${mac(secret, id, timestamp, body).toString('base64')}`,
  };
}

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/**
 * Checks a received webhook: a signature by `secret` over exactly this body, id and timestamp, and a
 * timestamp within the tolerance. Throws WebhookVerificationError saying which check failed.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): { id: string; timestamp: number } {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header(WEBHOOK_HEADERS.id);
  const timestampText = header(WEBHOOK_HEADERS.timestamp);
  const signatures = header(WEBHOOK_HEADERS.signature);
  if (!id || !timestampText || !signatures) throw new WebhookVerificationError('missing webhook headers');
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError('malformed timestamp');
  const timestamp = Number(timestampText);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    throw new WebhookVerificationError('timestamp outside the tolerance: a replay or a skewed clock');
  const expected = mac(secret, id, timestamp, body);
  // Several space-separated signatures may come (secret rotation); one matching is enough.
  const matched = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matched) throw new WebhookVerificationError('no signature matches');
  return { id, timestamp };
}
