// Core settings for delivering notifications: throttling and retries per channel, mandatory categories,
// templates' fallback locale, delivery-status webhooks and the preference center.
import { z } from 'zod';
import { defineConfigSlice, variable } from './define.js';
import { categories, duration, list, listed } from './parsers.js';

import {
  CHANNEL_DEFINITIONS,
  CHANNELS as CHANNEL_NAMES,
  type ChannelName as Channel,
} from '../../activities/channels/registry.js';

/** `telegram=25,sms=10`: activities per second on each channel's task queue. */
const rateLimits = z.string().transform((value, ctx) => {
  const limits: Partial<Record<Channel, number>> = {};
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const [name, rate] = item.split('=').map((p) => p.trim());
    if (!CHANNEL_NAMES.includes(name as Channel) || !(Number(rate) > 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not channel=perSecond (channels: ${CHANNEL_NAMES.join(', ')})`,
      });
      return z.NEVER;
    }
    limits[name as Channel] = Number(rate);
  }
  return limits;
});
/** `email,telegram`: channel names from the registry. */
const channelList = list.transform((items, ctx) => {
  const unknown = items.filter((item) => !CHANNEL_NAMES.includes(item as Channel));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `names no channel: ${unknown.join(', ')} (channels: ${CHANNEL_NAMES.join(', ')})`,
    });
    return z.NEVER;
  }
  return items as Channel[];
});
// Each channel's own default keeps under its provider's limit (Telegram's 30 a second per bot, ...).
const DEFAULT_RATE_LIMITS = CHANNEL_NAMES.flatMap((channel) => {
  const perSecond: number | undefined = CHANNEL_DEFINITIONS[channel].defaultRateLimit;
  return perSecond === undefined ? [] : [`${channel}=${perSecond}`];
}).join(',');

export interface DeliveryRetrySettings {
  initialInterval?: number;
  backoffCoefficient?: number;
  maximumInterval?: number;
  giveUpAfter?: number;
  attemptTimeout?: number;
}

const retryPolicy = z
  .object({
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumInterval: duration.optional(),
    giveUpAfter: duration.optional(),
    // Below 2 s an attempt's budget (the timeout less 1 s to record its end) leaves no time to send.
    attemptTimeout: duration.pipe(z.number().min(2_000, 'must be at least 2s')).optional(),
  })
  .strict();
/** JSON such as `{"sms":{"initialInterval":"5s","giveUpAfter":"2h"}}`; unset fields keep the defaults. */
const retryPolicies = z.string().transform((value, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, such as {"sms":{"giveUpAfter":"2h"}}' });
    return z.NEVER;
  }
  const parsed = z.partialRecord(z.enum(CHANNEL_NAMES), retryPolicy).safeParse(json);
  if (!parsed.success) {
    ctx.addIssue({
      code: 'custom',
      message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    });
    return z.NEVER;
  }
  return parsed.data;
});

export interface DeliveryConfig {
  delivery: {
    /** Activities per second on each channel's task queue (Temporal's maxTaskQueueActivitiesPerSecond). */
    rateLimits: Partial<Record<Channel, number>>;
    /** Per-channel overrides of the retry policy; durations in milliseconds. */
    retryPolicies: Partial<Record<Channel, DeliveryRetrySettings>>;
    /** How long a notification whose delivery gave up waits for a retry before it closes as failed. */
    retryWindowMs: number;
    /** Categories that ignore opt-outs and quiet hours (never a missing contact). */
    mandatoryCategories: string[];
    /**
     * The channels the deployment delivers on, for processes that hold no provider's credentials (the
     * API, the notifications worker); unset: the channels whose provider settings this process has.
     */
    channels?: Channel[];
  };
  /** Templates fall back to this locale when the user's has no translation. */
  defaultLocale: string;
}

export const deliveryConfig = defineConfigSlice({
  title: 'Delivery',
  variables: {
    DELIVERY_CHANNELS: variable({
      description: `The channels this deployment delivers on, comma-separated (${listed(CHANNEL_NAMES, 'and')}): the API's preference page offers, and the notifications worker plans, only these. Set it where a process lacks the channels' provider settings, as docker-compose.yml's API and notifications worker do (each channel worker holds its own).`,
      parse: channelList,
      whenUnset: 'the channels whose provider settings the process has',
    }),
    CHANNEL_RATE_LIMITS: variable({
      description: `Deliveries a second on each channel's task queue, across all workers: comma-separated \`channel=perSecond\` (channels ${listed(CHANNEL_NAMES, 'and')}). A channel not named keeps its default, which keeps under its provider's limit ([channels.md](channels.md)).`,
      parse: rateLimits.transform((limits) => ({ ...rateLimits.parse(DEFAULT_RATE_LIMITS), ...limits })),
      default: DEFAULT_RATE_LIMITS,
    }),
    DELIVERY_RETRY_POLICIES: variable({
      description:
        'JSON retry policy per channel, with any of `initialInterval`, `backoffCoefficient`, `maximumInterval`, `giveUpAfter` and `attemptTimeout` (how long one attempt may take, sending included), such as `{"sms":{"initialInterval":"5s","giveUpAfter":"2h"}}`.',
      parse: retryPolicies,
      whenUnset: '1 s, doubling, at most 10 min apart, giving up after 24 h; 1 min per attempt',
    }),
    DELIVERY_RETRY_WINDOW: variable({
      description:
        'How long a notification whose deliveries gave up waits for a retry request before it closes as failed.',
      parse: duration,
      default: '7d',
    }),
    MANDATORY_CATEGORIES: variable({
      description: 'Comma-separated categories that ignore opt-outs and quiet hours.',
      parse: list,
      default: 'security',
    }),
    DEFAULT_LOCALE: variable({
      description: "The locale templates fall back to when the user's has no translation.",
      parse: z.string().min(2),
      default: 'en',
    }),
  },
  toConfig: (v): DeliveryConfig => ({
    delivery: {
      rateLimits: v.CHANNEL_RATE_LIMITS,
      retryPolicies: v.DELIVERY_RETRY_POLICIES ?? {},
      retryWindowMs: v.DELIVERY_RETRY_WINDOW,
      mandatoryCategories: v.MANDATORY_CATEGORIES,
      channels: v.DELIVERY_CHANNELS,
    },
    defaultLocale: v.DEFAULT_LOCALE,
  }),
});

export interface WebhooksConfig {
  webhooks: {
    /** How long an event keeps being retried until its receiver answers 2xx. */
    retryForMs: number;
    /** How long one POST may take before it counts as failed. */
    timeoutMs: number;
  };
}

export const webhooksConfig = defineConfigSlice({
  title: 'Delivery-status webhooks',
  variables: {
    WEBHOOK_RETRY_FOR: variable({
      description: 'How long a webhook event is retried until its receiver answers 2xx.',
      parse: duration,
      default: '24h',
    }),
    WEBHOOK_TIMEOUT: variable({
      description: 'How long one webhook POST may take before it counts as failed.',
      parse: duration,
      default: '10s',
    }),
  },
  toConfig: (v): WebhooksConfig => ({
    webhooks: { retryForMs: v.WEBHOOK_RETRY_FOR, timeoutMs: v.WEBHOOK_TIMEOUT },
  }),
});

export interface PreferencesConfig {
  preferences: {
    /** Signs preference-page and unsubscribe links (HMAC-SHA256); the preference center is off without it. */
    secret?: string;
    /** How long a preference-page link works. */
    linkTtlMs: number;
    /** Categories the page always offers, besides those the user has rules or notifications in. */
    categories: string[];
  };
}

export const preferencesConfig = defineConfigSlice({
  title: 'Preference center',
  variables: {
    PREFERENCES_SECRET: variable({
      description:
        'At least 32 characters (`openssl rand -base64 32`) that sign preference-page, unsubscribe and acknowledge links and Telegram Acknowledge buttons; the preference page, `List-Unsubscribe` and acknowledging outside the inbox are off without it. `npm run dev` generates one.',
      parse: z.string().min(32, {
        message: 'must be at least 32 characters, such as the output of openssl rand -base64 32',
      }),
      secret: true,
    }),
    PREFERENCES_LINK_TTL: variable({
      description:
        'How long a preference-page link works (`24h`, `7d`, ...); unsubscribe links do not expire.',
      parse: duration,
      default: '7d',
    }),
    PREFERENCE_CATEGORIES: variable({
      description:
        "Comma-separated categories the preference page always offers, besides those of the user's rules and notifications.",
      parse: categories,
      whenUnset: 'none',
    }),
  },
  toConfig: (v): PreferencesConfig => ({
    preferences: {
      secret: v.PREFERENCES_SECRET,
      linkTtlMs: v.PREFERENCES_LINK_TTL,
      categories: v.PREFERENCE_CATEGORIES ?? [],
    },
  }),
});
