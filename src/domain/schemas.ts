import { z } from 'zod';
import { CHANNELS, CONTACT_CHANNELS, type ChannelName } from '../activities/channels/registry.js';
import { apnsTokenSchema, fcmTokenSchema } from '../activities/channels/push/devices.js';
import { NOTIFICATION_STATUSES } from '../workflows/definitions.js';
import { NOTIFICATION_PRIORITIES } from '../workflows/priority.js';
import { isUuid } from '../platform/uuid.js';

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** Text that is not blank: at most `max` characters as sent (what the OpenAPI document says), kept trimmed. */
const text = (max: number) => z.string().max(max).regex(/\S/, { message: 'must not be blank' }).trim();

export const channelSchema = z.enum(CHANNELS);
export const timeZoneSchema = z.string().max(64).refine(isTimeZone, { message: 'must be an IANA time zone' });

/** In the years 1 to 9999 once in UTC, as PostgreSQL's timestamps are; false for an invalid date. */
export function inStorableYears(time: Date): boolean {
  const year = time.getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/** An ISO 8601 time with an offset, in the years 1 to 9999 once in UTC: what PostgreSQL can store. */
const timestampSchema = z.iso.datetime({ offset: true }).refine((value) => inStorableYears(new Date(value)), {
  message: 'must fall in the years 1 to 9999 (UTC)',
});

export const localeSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'must be a language tag such as en or pt-BR' });

// Contacts: what an address is belongs to each channel (src/activities/channels/<name>/address.ts).
const contactShape = Object.fromEntries(
  CONTACT_CHANNELS.map(({ channel, contact }) => [channel, contact.schema.nullish()]),
);
export type ContactChanges = Partial<Record<ChannelName, string | null>>;
/** `{<channel>: address}` for every channel with one address per user; `null` clears one. */
export const contactsSchema = z.strictObject(contactShape) as unknown as z.ZodType<ContactChanges>;

/** `email`, `phone`, `telegramChatId`: the users' contact fields from before `contacts`, still accepted. */
const contactFields = Object.fromEntries(
  CONTACT_CHANNELS.flatMap(({ contact }) =>
    contact.userField ? [[contact.userField, contact.schema.nullish()]] : [],
  ),
) as Record<never, z.ZodType>;

/**
 * A parsed user request split in two: its contacts (`contacts`, and the older top-level fields, which
 * win) and the user's other fields.
 */
export function splitContacts<T extends { contacts?: ContactChanges }>(
  input: T,
): { fields: Omit<T, 'contacts'>; contacts: ContactChanges } {
  const { contacts: given, ...rest } = input;
  const fields: Record<string, unknown> = rest;
  const contacts: ContactChanges = { ...given };
  for (const { channel, contact } of CONTACT_CHANNELS) {
    if (contact.userField === undefined || !(contact.userField in fields)) continue;
    contacts[channel] = fields[contact.userField] as string | null;
    delete fields[contact.userField];
  }
  return { fields: fields as Omit<T, 'contacts'>, contacts };
}

/**
 * The caller's name for a user. Never shaped like a UUID: `:id` and `userId` take Herald's id or an
 * externalId, and a UUID-shaped externalId could otherwise stand for another user's id.
 */
const externalIdSchema = text(200).refine((value) => !isUuid(value), {
  message: "must not be shaped like a UUID (Herald's user ids are)",
});

export const createUserSchema = z.strictObject({
  externalId: externalIdSchema,
  ...contactFields,
  contacts: contactsSchema.optional(),
  locale: localeSchema.optional(),
  timezone: timeZoneSchema.optional(),
});

export const userIdParamSchema = z.string().min(1).max(200);
export const notificationIdSchema = z.uuid({ message: 'must be a notification id (UUID)' });

export const templateKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, {
  message: 'must be a lowercase key such as order-shipped',
});

/** requireContent in JSON Schema, for the OpenAPI document: template alone, or title and body. */
const CONTENT_ALTERNATIVES = [
  { required: ['template'], not: { anyOf: [{ required: ['title'] }, { required: ['body'] }] } },
  { required: ['title', 'body'], not: { required: ['template'] } },
];

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
  title: text(200).optional(),
  body: z.string().min(1).max(10_000).optional(),
  template: templateKeySchema.optional(),
  channels: z.array(channelSchema).max(CHANNELS.length).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  sendAt: timestampSchema.optional(),
  fallback: z.boolean().optional(),
  /** high goes before normal and low on every queue; unset: the category's default, else normal (bulk: low). */
  priority: z.enum(NOTIFICATION_PRIORITIES).optional(),
};

export const createNotificationSchema = z
  .strictObject({
    userId: text(200),
    ...notificationFields,
  })
  .superRefine(requireContent)
  .meta({ oneOf: CONTENT_ALTERNATIVES });
export type CreateNotification = z.infer<typeof createNotificationSchema>;

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' });

export const putTemplateSchema = z.strictObject({
  title: text(200),
  body: z.string().min(1).max(10_000),
});

export const cancelNotificationSchema = z.strictObject({
  reason: text(500).optional(),
});

const channelOrderSchema = z
  .array(channelSchema)
  .min(1)
  .max(CHANNELS.length)
  .refine((order) => new Set(order).size === order.length, { message: 'must not repeat a channel' });

export const updateUserSchema = z
  .strictObject({
    externalId: externalIdSchema.optional(),
    ...contactFields,
    contacts: contactsSchema.optional(),
    locale: localeSchema.optional(),
    timezone: timeZoneSchema.optional(),
    channelOrder: channelOrderSchema.optional(),
    /** Whether the bot's /send may address other users; only the API (an operator) sets it. */
    botSender: z.boolean().optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field to change' });

const hhmm = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { message: 'must be a time HH:MM, such as 22:00' });
const categoryOrAll = z.union([
  z.literal('*'),
  z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be a category or *' }),
]);

const digestHour = z.int().min(0).max(23);
/** How each category's notifications from a flow's digest step come: each as it comes, hourly, or daily at a local hour. */
export const digestChoicesSchema = z
  .array(
    z.discriminatedUnion('mode', [
      z.strictObject({ category: categoryOrAll, mode: z.enum(['off', 'hourly']) }),
      z.strictObject({ category: categoryOrAll, mode: z.literal('daily'), hour: digestHour }),
    ]),
  )
  .max(200)
  .refine((digests) => new Set(digests.map((d) => d.category)).size === digests.length, {
    message: 'must not list the same category twice',
  });

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
  /** Per-category digests for flows; absent: the stored ones stay. */
  digests: digestChoicesSchema.optional(),
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

/** A phone app's registration: its push provider and the token the provider gave it. */
export const pushDeviceSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('fcm'), token: fcmTokenSchema }),
  z.strictObject({ provider: z.literal('apns'), token: apnsTokenSchema }),
]);
export type PushDeviceInput = z.infer<typeof pushDeviceSchema>;

export const deviceIdSchema = z.uuid({ message: 'must be a device id (UUID)' });

/** Query of GET /v1/notifications: filters, newest first, a page at a time. */
export const listNotificationsQuerySchema = z.strictObject({
  userId: text(200).optional(),
  status: z.enum(NOTIFICATION_STATUSES).optional(),
  category: z.string().max(64).optional(),
  /** Created at or after this time. */
  since: timestampSchema.optional(),
  /** Created before this time. */
  until: timestampSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `nextCursor` from the previous page. */
  cursor: z.string().max(200).optional(),
});
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuerySchema>;

export const BULK_LIMIT = 10_000;
/** One notification to many users: the fields of a single one, with `recipients` in place of `userId`. */
export const bulkNotificationSchema = z
  .strictObject({
    recipients: z.array(text(200)).min(1).max(BULK_LIMIT),
    ...notificationFields,
  })
  .superRefine(requireContent)
  .meta({ oneOf: CONTENT_ALTERNATIVES });
export type BulkNotification = z.infer<typeof bulkNotificationSchema>;
