import type { Db } from '../lib/db.js';
import { Prisma } from '../lib/db.js';
import { problems } from './problem.js';
import type { CreateUser } from './schemas.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `:id` accepts Herald's id or the caller's externalId. */
export async function findUser(db: Db, idOrExternalId: string) {
  const user = UUID.test(idOrExternalId)
    ? await db.user.findFirst({ where: { OR: [{ id: idOrExternalId }, { externalId: idOrExternalId }] } })
    : await db.user.findUnique({ where: { externalId: idOrExternalId } });
  if (!user) throw problems.notFound(`User ${idOrExternalId}`);
  return user;
}

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
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw problems.conflict('user-exists', `A user with externalId ${input.externalId} already exists`);
    }
    throw error;
  }
}

export type UserRecord = Awaited<ReturnType<typeof createUser>>;

export const userView = (user: UserRecord) => ({
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
