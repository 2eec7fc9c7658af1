import type { Db } from '../store/db.js';
import { Prisma } from '../store/db.js';
import { isUuid } from '../platform/uuid.js';
import {
  CONTACT_CHANNELS,
  type ChannelName,
  type ContactDefinition,
} from '../activities/channels/registry.js';
import { maskToken } from '../activities/channels/push/devices.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { PreferencesResponse, PushDeviceResponse, UserResponse } from './views.js';
import { digestChoicesOf, replaceDigestChoices } from './digest-preference.js';
import type { ContactChanges, Preferences } from './schemas.js';

/** A user with their contacts: one address per channel that has one. */
export interface UserRecord {
  id: string;
  externalId: string;
  locale: string;
  timezone: string;
  channelOrder: ChannelName[];
  /** The bot's /send may address other users (an operator sets it through the API). */
  botSender: boolean;
  /** Signed into the user's preference and unsubscribe links: older links are refused (link-revocation.ts). */
  linkVersion: number;
  contacts: Partial<Record<ChannelName, string>>;
  /** The phones registered for push that are still active, oldest first. */
  pushDevices: PushDeviceRow[];
  createdAt: Date;
  updatedAt: Date;
}

export interface PushDeviceRow {
  id: string;
  provider: PushDeviceResponse['provider'];
  token: string;
  active: boolean;
  createdAt: Date;
}

export interface NewUser {
  externalId: string;
  locale?: string;
  timezone?: string;
  contacts: ContactChanges;
}

export interface UserChanges {
  externalId?: string;
  locale?: string;
  timezone?: string;
  channelOrder?: ChannelName[];
  botSender?: boolean;
  /** `null` clears a contact. */
  contacts?: ContactChanges;
}

/** A user is read with their contacts and their active phones. */
const withAddresses = {
  contacts: { select: { channel: true, address: true } },
  pushDevices: {
    where: { active: true },
    orderBy: { createdAt: 'asc' },
    select: { id: true, provider: true, token: true, active: true, createdAt: true },
  },
} as const;
type UserRow = Prisma.UserGetPayload<{ include: typeof withAddresses }>;

const toRecord = ({ contacts, ...user }: UserRow): UserRecord => ({
  ...user,
  contacts: Object.fromEntries(contacts.map((c) => [c.channel, c.address])),
});

/** `:id` accepts Herald's id or the caller's externalId; the id match wins. */
export async function findUser(db: Db, idOrExternalId: string): Promise<UserRecord> {
  // Herald's id first: an externalId stored before UUID-shaped ones were refused never shadows a user's id.
  const user =
    (isUuid(idOrExternalId)
      ? await db.user.findUnique({ where: { id: idOrExternalId }, include: withAddresses })
      : null) ??
    (await db.user.findUnique({ where: { externalId: idOrExternalId }, include: withAddresses }));
  if (!user) throw new NotFoundError(`User ${idOrExternalId}`);
  return toRecord(user);
}

/** The user reached at this address on this channel (the bot finds a chat's user so); the latest wins. */
export async function findUserByContact(
  db: Db,
  channel: ChannelName,
  address: string,
): Promise<UserRecord | null> {
  const user = await db.user.findFirst({
    where: { contacts: { some: { channel, address } } },
    orderBy: { updatedAt: 'desc' },
    include: withAddresses,
  });
  return user && toRecord(user);
}

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

const externalIdTaken = (externalId: string | undefined) =>
  new ConflictError('user-exists', `A user with externalId ${externalId} already exists`);

const setContacts = (changes: ContactChanges) =>
  Object.entries(changes).flatMap(([channel, address]) =>
    address == null ? [] : [{ channel: channel as ChannelName, address }],
  );

export async function createUser(db: Db, input: NewUser): Promise<UserRecord> {
  try {
    const user = await db.user.create({
      data: {
        externalId: input.externalId,
        ...(input.locale ? { locale: input.locale } : {}),
        ...(input.timezone ? { timezone: input.timezone } : {}),
        contacts: { create: setContacts(input.contacts) },
      },
      include: withAddresses,
    });
    return toRecord(user);
  } catch (error) {
    if (isUniqueViolation(error)) throw externalIdTaken(input.externalId);
    throw error;
  }
}

/** Changes the given fields and contacts, in one statement; a contact set to `null` is removed. */
export async function updateUser(db: Db, idOrExternalId: string, input: UserChanges): Promise<UserRecord> {
  const user = await findUser(db, idOrExternalId);
  const { contacts = {}, ...fields } = input;
  const cleared = Object.entries(contacts).flatMap(([channel, address]) =>
    address === null ? [channel as ChannelName] : [],
  );
  try {
    const updated = await db.user.update({
      where: { id: user.id },
      data: {
        ...fields,
        // A change of contacts alone changes the user too (the bot finds a chat's latest user by it).
        updatedAt: new Date(),
        contacts: {
          ...(cleared.length > 0 && { deleteMany: { channel: { in: cleared } } }),
          upsert: setContacts(contacts).map(({ channel, address }) => ({
            where: { userId_channel: { userId: user.id, channel } },
            create: { channel, address },
            update: { address },
          })),
        },
      },
      include: withAddresses,
    });
    return toRecord(updated);
  } catch (error) {
    if (isUniqueViolation(error)) throw externalIdTaken(input.externalId);
    throw error;
  }
}

/**
 * Makes `address` on `channel` this user's alone: whoever had it before loses it (a Telegram chat
 * belongs to the user who linked it last). Runs inside the caller's transaction.
 */
export async function claimContact(
  tx: Prisma.TransactionClient,
  userId: string,
  channel: ChannelName,
  address: string,
): Promise<void> {
  await tx.contact.deleteMany({ where: { channel, address, userId: { not: userId } } });
  await tx.contact.upsert({
    where: { userId_channel: { userId, channel } },
    create: { userId, channel, address },
    update: { address },
  });
  // The user changed: their updatedAt says so, as it did when contacts were columns.
  await tx.user.update({ where: { id: userId }, data: { updatedAt: new Date() } });
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
  const [rules, quietHours, digests] = await Promise.all([
    db.preference.findMany({
      where: { userId: user.id },
      orderBy: [{ category: 'asc' }, { channel: 'asc' }],
    }),
    db.quietHours.findUnique({ where: { userId: user.id } }),
    digestChoicesOf(db, user.id),
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
    digests,
  };
}

/** Replaces the user's rules and quiet hours (and digests, when given) in one transaction. */
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
    ...(input.digests ? replaceDigestChoices(db, user.id, input.digests) : []),
  ]);
  return preferencesOf(db, input.channelOrder ? { ...user, channelOrder: input.channelOrder } : user);
}

/** A device as the API shows it: the token's end only. */
export const pushDeviceView = (device: PushDeviceRow): PushDeviceResponse => ({
  id: device.id,
  provider: device.provider,
  token: maskToken(device.token),
  active: device.active,
  createdAt: device.createdAt.toISOString(),
});

/** The user as the API shows them: every contact (masked where it is a secret) and the older fields. */
export function userView(
  user: UserRecord,
  /** The channels with one address per user: the registry's, or others in a test. */
  contactChannels: readonly { channel: ChannelName; contact: ContactDefinition }[] = CONTACT_CHANNELS,
): UserResponse {
  const contacts: Record<string, string> = {};
  const userFields: Record<string, string | null> = {};
  for (const { channel, contact } of contactChannels) {
    const address = user.contacts[channel];
    const shown = address === undefined ? undefined : (contact.mask?.(address) ?? address);
    if (shown !== undefined) contacts[channel] = shown;
    if (contact.userField) userFields[contact.userField] = shown ?? null;
  }
  return {
    id: user.id,
    externalId: user.externalId,
    ...userFields,
    contacts,
    locale: user.locale,
    timezone: user.timezone,
    channelOrder: user.channelOrder,
    botSender: user.botSender,
    pushDevices: user.pushDevices.map(pushDeviceView),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  } as UserResponse;
}
