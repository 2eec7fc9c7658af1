import { z } from 'zod';
import { CHANNELS } from '../workflows/definitions.js';

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export const channelSchema = z.enum(CHANNELS);
export const timeZoneSchema = z.string().max(64).refine(isTimeZone, { message: 'must be an IANA time zone' });

export const localeSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'must be a language tag such as en or pt-BR' });

const contactFields = {
  email: z.email().max(320).nullish(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, { message: 'must be an E.164 number such as +14155550123' })
    .nullish(),
  telegramChatId: z
    .string()
    .regex(/^-?\d{1,20}$/, { message: 'must be a Telegram chat id (digits)' })
    .nullish(),
};

export const createUserSchema = z.strictObject({
  externalId: z.string().trim().min(1).max(200),
  ...contactFields,
  locale: localeSchema.optional(),
  timezone: timeZoneSchema.optional(),
});
export type CreateUser = z.infer<typeof createUserSchema>;

export const userIdParamSchema = z.string().min(1).max(200);
export const notificationIdSchema = z.uuid({ message: 'must be a notification id (UUID)' });

export const templateKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, {
  message: 'must be a lowercase key such as order-shipped',
});

/** Either a stored template or direct content, never both and never neither. */
function requireContent(
  value: { template?: string; title?: string; body?: string },
  ctx: z.RefinementCtx,
): void {
  if (value.template) {
    for (const field of ['title', 'body'] as const)
      if (value[field] !== undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: 'give either template or title and body' });
  } else {
    for (const field of ['title', 'body'] as const)
      if (value[field] === undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: 'is required without a template' });
  }
}

/** What a notification says and how it goes, for one recipient or many. */
const notificationFields = {
  category: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, {
    message: 'must be a lowercase word such as billing or security',
  }),
  title: z.string().trim().min(1).max(200).optional(),
  body: z.string().min(1).max(10_000).optional(),
  template: templateKeySchema.optional(),
  channels: z.array(channelSchema).max(CHANNELS.length).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  sendAt: z.iso.datetime({ offset: true }).optional(),
  fallback: z.boolean().optional(),
};

export const createNotificationSchema = z
  .strictObject({
    userId: z.string().trim().min(1).max(200),
    ...notificationFields,
  })
  .superRefine(requireContent);
export type CreateNotification = z.infer<typeof createNotificationSchema>;

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' });

export const putTemplateSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(10_000),
});

export const cancelNotificationSchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
});

const channelOrderSchema = z
  .array(channelSchema)
  .min(1)
  .max(CHANNELS.length)
  .refine((order) => new Set(order).size === order.length, { message: 'must not repeat a channel' });

export const updateUserSchema = z
  .strictObject({
    externalId: z.string().trim().min(1).max(200).optional(),
    ...contactFields,
    locale: localeSchema.optional(),
    timezone: timeZoneSchema.optional(),
    channelOrder: channelOrderSchema.optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' });
export type UpdateUser = z.infer<typeof updateUserSchema>;

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a time HH:MM, such as 22:00' });
const categoryOrAll = z.union([
  z.literal('*'),
  z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be a category or *' }),
]);

export const preferencesSchema = z.strictObject({
  /** Opt-in/out rules; the most specific (category, channel) match wins, `*` matches any. */
  rules: z
    .array(
      z.strictObject({
        category: categoryOrAll,
        channel: z.union([z.literal('*'), channelSchema]),
        enabled: z.boolean(),
      }),
    )
    .max(200)
    .refine((rules) => new Set(rules.map((r) => `${r.category}/${r.channel}`)).size === rules.length, {
      message: 'must not list the same category and channel twice',
    }),
  quietHours: z
    .strictObject({
      start: hhmm,
      end: hhmm,
      /** IANA zone; the user's own time zone when absent. */
      timezone: timeZoneSchema.optional(),
    })
    .refine((q) => q.start !== q.end, { message: 'start and end must differ' })
    .nullable(),
  channelOrder: channelOrderSchema.optional(),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** What a browser's `JSON.stringify(pushSubscription)` gives. */
export const pushSubscriptionSchema = z.strictObject({
  endpoint: z
    .url({ protocol: /^https$/, message: 'must be an https URL from the browser push service' })
    .max(2048),
  expirationTime: z.number().nullish(),
  keys: z.strictObject({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}={0,2}$/, { message: 'must be a base64url P-256 key' }),
    auth: z.string().regex(/^[A-Za-z0-9_-]{16,32}={0,2}$/, { message: 'must be a base64url auth secret' }),
  }),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionSchema>;

export const subscriptionIdSchema = z.uuid({ message: 'must be a subscription id (UUID)' });

const NOTIFICATION_STATUSES = [
  'accepted',
  'scheduled',
  'deferred',
  'processing',
  'sent',
  'partially_sent',
  'failed',
  'skipped',
  'cancelled',
] as const;

/** Query of GET /v1/notifications: filters, newest first, a page at a time. */
export const listNotificationsQuerySchema = z.strictObject({
  userId: z.string().trim().min(1).max(200).optional(),
  status: z.enum(NOTIFICATION_STATUSES).optional(),
  category: z.string().max(64).optional(),
  /** Created at or after this time. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Created before this time. */
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `nextCursor` from the previous page. */
  cursor: z.string().max(200).optional(),
});
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuerySchema>;

export const BULK_LIMIT = 1000;
/** One notification to many users: the fields of a single one, with `recipients` in place of `userId`. */
export const bulkNotificationSchema = z
  .strictObject({
    recipients: z.array(z.string().trim().min(1).max(200)).min(1).max(BULK_LIMIT),
    ...notificationFields,
  })
  .superRefine(requireContent);
export type BulkNotification = z.infer<typeof bulkNotificationSchema>;
