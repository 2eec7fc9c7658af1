import type { Db } from '../store/db.js';
import { Prisma } from '../store/db.js';
import { isUuid } from '../platform/uuid.js';
import { problems } from './problem.js';
import type { PreferencesResponse, UserResponse } from './responses.js';
import type { CreateUser, Preferences, PushSubscriptionInput, UpdateUser } from './schemas.js';

/** `:id` accepts Herald's id or the caller's externalId. */
export async function findUser(db: Db, idOrExternalId: string) {
  const user = isUuid(idOrExternalId)
    ? await db.user.findFirst({ where: { OR: [{ id: idOrExternalId }, { externalId: idOrExternalId }] } })
    : await db.user.findUnique({ where: { externalId: idOrExternalId } });
  if (!user) throw problems.notFound(`User ${idOrExternalId}`);
  return user;
}

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

export async function createUser(db: Db, input: CreateUser) {
  try {
    return await db.user.create({
      data: {
        externalId: input.externalId,
        email: input.email ?? null,
        phone: input.phone ?? null,
        telegramChatId: input.telegramChatId ?? null,
        ...(input.locale ? { locale: input.locale } : {}),
        ...(input.timezone ? { timezone: input.timezone } : {}),
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw problems.conflict('user-exists', `A user with externalId ${input.externalId} already exists`);
    }
    throw error;
  }
}

/** Changes the given fields; `null` clears a contact. */
export async function updateUser(db: Db, idOrExternalId: string, input: UpdateUser) {
  const user = await findUser(db, idOrExternalId);
  try {
    return await db.user.update({ where: { id: user.id }, data: input });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw problems.conflict('user-exists', `A user with externalId ${input.externalId} already exists`);
    }
    throw error;
  }
}

/**
 * Deletes the user with their contacts, preferences and history. Their open notifications stop on
 * their own: the workflow finds neither user nor notification and records nothing more.
 */
export async function deleteUser(db: Db, idOrExternalId: string): Promise<{ id: string; open: string[] }> {
  const user = await findUser(db, idOrExternalId);
  const open = await db.notification.findMany({
    where: { userId: user.id, completedAt: null },
    select: { workflowId: true },
  });
  await db.user.delete({ where: { id: user.id } });
  return { id: user.id, open: open.map((n) => n.workflowId) };
}

type RuleChannel = PreferencesResponse['rules'][number]['channel'];

export async function getPreferences(db: Db, idOrExternalId: string): Promise<PreferencesResponse> {
  return preferencesOf(db, await findUser(db, idOrExternalId));
}

/** The preferences of a user already read. */
export async function preferencesOf(
  db: Db,
  user: Pick<UserRecord, 'id' | 'timezone' | 'channelOrder'>,
): Promise<PreferencesResponse> {
  const [rules, quietHours] = await Promise.all([
    db.preference.findMany({
      where: { userId: user.id },
      orderBy: [{ category: 'asc' }, { channel: 'asc' }],
    }),
    db.quietHours.findUnique({ where: { userId: user.id } }),
  ]);
  return {
    userId: user.id,
    timezone: user.timezone,
    channelOrder: user.channelOrder,
    // The column is text, but only `*` or a channel name passes preferencesSchema on the way in.
    rules: rules.map(({ category, channel, enabled }) => ({
      category,
      channel: channel as RuleChannel,
      enabled,
    })),
    quietHours: quietHours
      ? { start: quietHours.start, end: quietHours.end, timezone: quietHours.timezone ?? undefined }
      : null,
  };
}

/** Replaces the user's rules and quiet hours in one transaction. */
export async function putPreferences(db: Db, idOrExternalId: string, input: Preferences) {
  const user = await findUser(db, idOrExternalId);
  await db.$transaction([
    db.preference.deleteMany({ where: { userId: user.id } }),
    db.preference.createMany({ data: input.rules.map((rule) => ({ userId: user.id, ...rule })) }),
    input.quietHours
      ? db.quietHours.upsert({
          where: { userId: user.id },
          create: { userId: user.id, ...input.quietHours, timezone: input.quietHours.timezone ?? null },
          update: { ...input.quietHours, timezone: input.quietHours.timezone ?? null },
        })
      : db.quietHours.deleteMany({ where: { userId: user.id } }),
    ...(input.channelOrder
      ? [db.user.update({ where: { id: user.id }, data: { channelOrder: input.channelOrder } })]
      : []),
  ]);
  return preferencesOf(db, input.channelOrder ? { ...user, channelOrder: input.channelOrder } : user);
}

/**
 * Stores a browser's push subscription. Subscribing again (same endpoint) reactivates it, and an
 * endpoint moves to the user who subscribed last: a browser belongs to whoever is signed in on it.
 */
export async function addPushSubscription(db: Db, idOrExternalId: string, input: PushSubscriptionInput) {
  const user = await findUser(db, idOrExternalId);
  const fields = { userId: user.id, p256dh: input.keys.p256dh, auth: input.keys.auth, active: true };
  const existing = await db.pushSubscription.findUnique({ where: { endpoint: input.endpoint } });
  const subscription = await db.pushSubscription.upsert({
    where: { endpoint: input.endpoint },
    create: { endpoint: input.endpoint, ...fields },
    update: { ...fields, deactivatedAt: null },
  });
  return { created: !existing, subscription: { id: subscription.id, active: subscription.active } };
}

export async function removePushSubscription(db: Db, idOrExternalId: string, subscriptionId: string) {
  const user = await findUser(db, idOrExternalId);
  const { count } = await db.pushSubscription.deleteMany({ where: { id: subscriptionId, userId: user.id } });
  if (count === 0) throw problems.notFound(`Push subscription ${subscriptionId}`);
}

export type UserRecord = Awaited<ReturnType<typeof createUser>>;

export const userView = (user: UserRecord): UserResponse => ({
  id: user.id,
  externalId: user.externalId,
  email: user.email,
  phone: user.phone,
  telegramChatId: user.telegramChatId,
  locale: user.locale,
  timezone: user.timezone,
  channelOrder: user.channelOrder,
  createdAt: user.createdAt.toISOString(),
  updatedAt: user.updatedAt.toISOString(),
});
