// What the API answers, as zod schemas: the handlers' return types come from them, and the OpenAPI
// document's response bodies are generated from them, so the two cannot drift apart unnoticed.
import { z } from 'zod';
import {
  CHANNEL_STATES,
  DELIVERY_STATUSES,
  NOTIFICATION_OUTCOMES,
  NOTIFICATION_PHASES,
  NOTIFICATION_STATUSES,
} from '../workflows/definitions.js';
import { NOTIFICATION_PRIORITIES } from '../workflows/priority.js';
import { CHANNELS, CONTACT_CHANNELS, type ChannelName } from '../activities/channels/registry.js';
import { PUSH_PROVIDERS } from '../activities/channels/push/devices.js';

/** Every named response body; the OpenAPI document lists them under components.schemas. */
export const responseSchemas = z.registry<{ id: string; description?: string }>();

const channel = z.enum(CHANNELS);
const timestamp = z.iso.datetime();

export const problemResponse = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .register(responseSchemas, {
    id: 'Problem',
    description: 'RFC 9457 problem details; clients may switch on `type`',
  });

/** The older top-level contact fields (`email`, `phone`, `telegramChatId`), kept in every user view. */
const userContactFields = Object.fromEntries(
  CONTACT_CHANNELS.flatMap(({ contact }) =>
    contact.userField ? [[contact.userField, z.string().nullable()]] : [],
  ),
) as Record<'email' | 'phone' | 'telegramChatId', z.ZodNullable<z.ZodString>>;

export const pushDeviceResponse = z
  .object({
    id: z.uuid(),
    provider: z.enum(PUSH_PROVIDERS),
    /** The token's last 8 characters after an ellipsis: enough to tell a user's devices apart. */
    token: z.string(),
    /** False once its provider said the app is gone from the device, or newer devices retired it. */
    active: z.boolean(),
    createdAt: timestamp,
  })
  .register(responseSchemas, { id: 'PushDevice' });
export type PushDeviceResponse = z.infer<typeof pushDeviceResponse>;

export const userResponse = z
  .object({
    id: z.uuid(),
    externalId: z.string(),
    ...userContactFields,
    /** Every contact the user has, by channel; a secret address (a webhook URL, a token) is masked. */
    contacts: z.object(
      Object.fromEntries(CONTACT_CHANNELS.map(({ channel }) => [channel, z.string().optional()])),
    ) as unknown as z.ZodType<Partial<Record<ChannelName, string>>>,
    locale: z.string(),
    timezone: z.string(),
    channelOrder: z.array(channel),
    /** Whether the bot's /send may address other users (set with PATCH /v1/users/:id). */
    botSender: z.boolean(),
    /** Active phones registered for push (POST /v1/users/:id/push-devices), oldest first. */
    pushDevices: z.array(pushDeviceResponse),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .register(responseSchemas, { id: 'User' });
export type UserResponse = z.infer<typeof userResponse>;

export const preferencesResponse = z
  .object({
    userId: z.uuid(),
    timezone: z.string(),
    channelOrder: z.array(channel),
    rules: z.array(
      z.object({ category: z.string(), channel: z.union([z.literal('*'), channel]), enabled: z.boolean() }),
    ),
    quietHours: z.object({ start: z.string(), end: z.string(), timezone: z.string().optional() }).nullable(),
    /** Per-category digests in the user's time zone; a category not listed is off. */
    digests: z.array(
      z.union([
        z.object({ category: z.string(), mode: z.enum(['off', 'hourly']) }),
        z.object({ category: z.string(), mode: z.literal('daily'), hour: z.int().min(0).max(23) }),
      ]),
    ),
  })
  .register(responseSchemas, { id: 'Preferences' });
export type PreferencesResponse = z.infer<typeof preferencesResponse>;

export const pushSubscriptionResponse = z
  .object({ id: z.uuid(), active: z.boolean() })
  .register(responseSchemas, { id: 'PushSubscription' });

export const vapidKeyResponse = z
  .object({ publicKey: z.string() })
  .register(responseSchemas, { id: 'VapidPublicKey' });

const notificationStatus = z.enum(NOTIFICATION_STATUSES);

export const acceptedNotificationResponse = z
  .object({ id: z.uuid(), status: notificationStatus, workflowId: z.string() })
  .register(responseSchemas, { id: 'AcceptedNotification' });

/** What a notification's detail and its line in a listing both say. */
const notificationSummary = {
  id: z.uuid(),
  userId: z.uuid(),
  category: z.string(),
  status: notificationStatus,
  title: z.string().nullable(),
  template: z.string().nullable(),
  createdAt: timestamp,
  completedAt: timestamp.nullable(),
};
const deliveryState = { channel, status: z.enum(DELIVERY_STATUSES) };

export const notificationResponse = z
  .object({
    ...notificationSummary,
    channels: z.array(channel),
    fallback: z.boolean(),
    sendAt: timestamp.nullable(),
    priority: z.enum(NOTIFICATION_PRIORITIES),
    workflowId: z.string(),
    deliveries: z.array(
      z.object({
        ...deliveryState,
        attempts: z.int(),
        lastError: z.string().nullable(),
        providerMessageId: z.string().nullable(),
        sentAt: timestamp.nullable(),
        /** When the recipient first read it, and first opened its link or a button (the in-app inbox). */
        readAt: timestamp.nullable(),
        clickedAt: timestamp.nullable(),
      }),
    ),
  })
  .register(responseSchemas, { id: 'Notification' });
export type NotificationResponse = z.infer<typeof notificationResponse>;

export const notificationPageResponse = z
  .object({
    items: z.array(z.object({ ...notificationSummary, deliveries: z.array(z.object(deliveryState)) })),
    /** Pass as `cursor` for the next page; null on the last one. */
    nextCursor: z.string().nullable(),
  })
  .register(responseSchemas, { id: 'NotificationPage' });
export type NotificationPageResponse = z.infer<typeof notificationPageResponse>;

const bulkResult = z.union([
  z.object({ recipient: z.string(), id: z.uuid(), status: notificationStatus, workflowId: z.string() }),
  z.object({
    recipient: z.string(),
    error: z.object({ type: z.url(), title: z.string(), detail: z.string().optional() }),
  }),
]);
export type BulkResult = z.infer<typeof bulkResult>;

export const bulkResponse = z
  .object({ accepted: z.int().min(0), failed: z.int().min(0), results: z.array(bulkResult) })
  .register(responseSchemas, {
    id: 'BulkResult',
    description: 'One result per recipient, in the order given',
  });

const engagementEvent = z.object({
  kind: z.enum(['read', 'clicked']),
  channel,
  at: timestamp,
  action: z.string().optional(),
});

/** The workflow's own account of a notification (its `status` query), as cancel and retry return it. */
export const workflowStatusResponse = z
  .object({
    state: z.enum(NOTIFICATION_PHASES),
    sendAt: timestamp.optional(),
    deferredUntil: timestamp.optional(),
    retryDeadline: timestamp.optional(),
    retries: z.int().min(0),
    outcome: z.enum(NOTIFICATION_OUTCOMES).optional(),
    channels: z.partialRecord(
      channel,
      z.object({
        state: z.enum(CHANNEL_STATES),
        error: z.string().optional(),
        permanent: z.boolean().optional(),
        fallbackFor: channel.optional(),
      }),
    ),
    /** The first read and click the workflow heard of (the in-app inbox). */
    engagement: z
      .object({ read: engagementEvent.optional(), clicked: engagementEvent.optional() })
      .optional(),
  })
  .register(responseSchemas, { id: 'WorkflowStatus' });
export type WorkflowStatusResponse = z.infer<typeof workflowStatusResponse>;

export const templateResponse = z
  .object({ key: z.string(), locale: z.string(), title: z.string(), body: z.string(), updatedAt: timestamp })
  .register(responseSchemas, { id: 'Template' });
export type TemplateResponse = z.infer<typeof templateResponse>;

export const templateLocalesResponse = z
  .object({ key: z.string(), locales: z.array(templateResponse) })
  .register(responseSchemas, { id: 'TemplateLocales' });

export const healthResponse = z
  .object({ status: z.literal('ok') })
  .register(responseSchemas, { id: 'Health' });

export const readinessResponse = z
  .object({
    status: z.enum(['ready', 'not ready']),
    database: z.enum(['ok', 'unreachable']),
    temporal: z.enum(['ok', 'unreachable']),
  })
  .register(responseSchemas, { id: 'Readiness' });
