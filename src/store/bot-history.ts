// What the bot's /status shows a user: the notifications they received, and those they sent with /send
// (source 'bot', data.sentBy), which may have gone to someone else.
import type { Db, NotificationStatus } from './db.js';

export interface BotHistoryItem {
  id: string;
  category: string;
  status: NotificationStatus;
  createdAt: Date;
}

/**
 * The user's latest notifications, newest first: received ones from the (user_id, created_at, id) index,
 * sent ones from the partial index on data->>'sentBy' (migration 20261206140000_listing_indexes), merged.
 * One WHERE with an OR of the two would be served by neither index.
 */
export function latestBotHistory(db: Db, userId: string, limit: number): Promise<BotHistoryItem[]> {
  // 'bot' is written into the SQL, not passed: the partial index applies only to a query that names it.
  return db.$queryRaw<BotHistoryItem[]>`
    (SELECT id, category, status::text, created_at AS "createdAt" FROM notifications
      WHERE user_id = ${userId}::uuid
      ORDER BY created_at DESC, id DESC LIMIT ${limit})
    UNION
    (SELECT id, category, status::text, created_at AS "createdAt" FROM notifications
      WHERE source = 'bot' AND data ->> 'sentBy' = ${userId}
      ORDER BY created_at DESC, id DESC LIMIT ${limit})
    ORDER BY "createdAt" DESC, id DESC LIMIT ${limit}`;
}

/** The notification if it is in the user's history: its recipient tells whether it went to someone else. */
export function findInBotHistory(
  db: Db,
  userId: string,
  id: string,
): Promise<{ id: string; userId: string } | null> {
  return db.notification.findFirst({
    where: { id, OR: [{ userId }, { source: 'bot', data: { path: ['sentBy'], equals: userId } }] },
    select: { id: true, userId: true },
  });
}
