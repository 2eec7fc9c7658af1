// Receiving Herald's delivery-status webhooks. Herald signs them as Standard Webhooks
// (https://www.standardwebhooks.com); the reference library checks the signature, so this client and
// any other Standard Webhooks receiver agree on what a valid event is.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

export type NotificationOutcome = 'sent' | 'partially_sent' | 'failed' | 'skipped' | 'cancelled' | 'digested';

export interface ChannelOutcome {
  state: string;
  error?: string;
  /** The provider refused for good (rather than retries running out). */
  permanent?: boolean;
  /** The channel this one stood in for, as a fallback. */
  fallbackFor?: string;
}

/** The JSON body of an event (docs/api.md, "Delivery-status webhooks"). */
export interface WebhookEvent {
  /** The same for every attempt to deliver this event: drop an id you have already handled. */
  id: string;
  type: `notification.${NotificationOutcome}`;
  createdAt: string;
  data: {
    notificationId: string;
    userId: string;
    category: string;
    status: NotificationOutcome;
    /** Retry rounds run before this outcome. */
    retries: number;
    /** Each channel's state (`sent`, `failed`, …) and, when it failed, why. */
    channels: Record<string, ChannelOutcome | undefined>;
  };
}

/** Request headers as Node's http, Express or fetch give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

const HEADER_NAMES = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

function pick(headers: WebhookHeaders): Record<(typeof HEADER_NAMES)[number], string> {
  const get = (name: string): string => {
    if (headers instanceof Headers) return headers.get(name) ?? '';
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
    return (Array.isArray(entry) ? entry[0] : entry) ?? '';
  };
  return Object.fromEntries(HEADER_NAMES.map((name) => [name, get(name)])) as Record<
    (typeof HEADER_NAMES)[number],
    string
  >;
}

/**
 * Checks a webhook Herald sent, given the endpoint's secret (`whsec_…`, shown once when it was
 * registered), the request's headers and its body exactly as received (before any JSON parsing), and
 * returns the event. Throws WebhookVerificationError for a missing or wrong signature, an altered body,
 * or a timestamp more than 5 minutes from this machine's clock (a replay).
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
): WebhookEvent {
  return new Webhook(secret).verify(body, pick(headers)) as WebhookEvent;
}
