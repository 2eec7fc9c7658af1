import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;
export { Prisma } from '../generated/prisma/client.js';
export type { Channel, DeliveryStatus, NotificationStatus } from '../generated/prisma/enums.js';

/** One Prisma client per process, on the pg driver adapter (no engine binary; see PLATFORM.md). */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
