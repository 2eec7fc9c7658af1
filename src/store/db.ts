import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import type * as Enums from '../generated/prisma/enums.js';
import type { ChannelName } from '../activities/channels/registry.js';
import type { DeliveryStatus, NotificationStatus } from '../workflows/definitions.js';
import type { NotificationPriority } from '../workflows/priority.js';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client.js';
export type { DeliveryStatus, NotificationStatus };

// The database's enums are the same words as the workflow's, the API's and the registry's: this line
// stops compiling when a migration and the code part ways (a channel added to one and not the other).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const vocabulariesAgree: Same<Enums.Channel, ChannelName> &
  Same<Enums.NotificationStatus, NotificationStatus> &
  Same<Enums.DeliveryStatus, DeliveryStatus> = true;
void vocabulariesAgree;
const prioritiesAgree: Same<Enums.NotificationPriority, NotificationPriority> = true;
void prioritiesAgree;

/** Whether the database answers: the API's readiness. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** One Prisma client per process, on the pg driver adapter (Prisma's engine binaries are not needed). */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
