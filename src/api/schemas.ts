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

export const createUserSchema = z.strictObject({
  externalId: z.string().trim().min(1).max(200),
  email: z.email().max(320).nullish(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, { message: 'must be an E.164 number such as +14155550123' })
    .nullish(),
  telegramChatId: z
    .string()
    .regex(/^-?\d{1,20}$/, { message: 'must be a Telegram chat id (digits)' })
    .nullish(),
  locale: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'must be a language tag such as en or pt-BR' })
    .optional(),
  timezone: timeZoneSchema.optional(),
});
export type CreateUser = z.infer<typeof createUserSchema>;

export const userIdParamSchema = z.string().min(1).max(200);
export const notificationIdSchema = z.uuid({ message: 'must be a notification id (UUID)' });

export const templateKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, {
  message: 'must be a lowercase key such as order-shipped',
});
export const localeSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: 'must be a language tag such as en or pt-BR' });

export const createNotificationSchema = z
  .strictObject({
    userId: z.string().trim().min(1).max(200),
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
  })
  .superRefine((value, ctx) => {
    if (value.template) {
      for (const field of ['title', 'body'] as const)
        if (value[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'give either template or title and body' });
    } else {
      for (const field of ['title', 'body'] as const)
        if (value[field] === undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'is required without a template' });
    }
  });
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
