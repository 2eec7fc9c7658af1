import type { Db } from '../store/db.js';
import { Prisma } from '../store/db.js';
import { isUuid } from '../platform/uuid.js';
import { InvalidInputError } from './errors.js';
import type { NotificationPageResponse } from './views.js';
import { inStorableYears, type ListNotificationsQuery } from './schemas.js';
import { findUser } from './users.js';

/** Position after the last item of a page: its creation time and id (ties broken by id). */
const encodeCursor = (createdAt: Date, id: string) =>
  Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  // A forged time outside PostgreSQL's years would fail the query: it is no cursor of ours either.
  if (!id || !inStorableYears(createdAt) || !isUuid(id)) {
    throw new InvalidInputError('validation-error', 'The request is invalid', 'See `errors` for each field', [
      { field: 'cursor', message: 'is not a cursor from a previous page' },
    ]);
  }
  return { createdAt, id };
}

/**
 * Notifications newest first, filtered, one page at a time with an opaque cursor; with `source`, only
 * those that caller created (a send-scoped API key sees no other's).
 */
export async function listNotifications(
  db: Db,
  query: ListNotificationsQuery,
  { source }: { source?: string } = {},
): Promise<NotificationPageResponse> {
  const where: Prisma.NotificationWhereInput = {};
  if (source !== undefined) where.source = source;
  if (query.userId) where.userId = (await findUser(db, query.userId)).id;
  if (query.status) where.status = query.status;
  if (query.category) where.category = query.category;
  if (query.since || query.until) {
    where.createdAt = {
      ...(query.since ? { gte: new Date(query.since) } : {}),
      ...(query.until ? { lt: new Date(query.until) } : {}),
    };
  }
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    // Older than the cursor's (createdAt, id), written with a bound on createdAt alone so the index scan
    // starts at the cursor: a plain OR of "older" and "as old, smaller id" gave it none, and each page was
    // read from the newest row down.
    where.AND = [
      { createdAt: { lte: after.createdAt } },
      { OR: [{ createdAt: { lt: after.createdAt } }, { id: { lt: after.id } }] },
    ];
  }
  // Ordered like every listing index, (createdAt, id): read from the index (docs/operations.md#listing-indexes).
  const rows = await db.notification.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    select: {
      id: true,
      userId: true,
      category: true,
      status: true,
      title: true,
      template: true,
      createdAt: true,
      completedAt: true,
      deliveries: { select: { channel: true, status: true } },
    },
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((n) => ({
      id: n.id,
      userId: n.userId,
      category: n.category,
      status: n.status,
      title: n.title,
      template: n.template,
      createdAt: n.createdAt.toISOString(),
      completedAt: n.completedAt?.toISOString() ?? null,
      deliveries: n.deliveries.map((d) => ({ channel: d.channel, status: d.status })),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
