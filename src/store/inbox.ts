// The in-app inbox's messages: stored by the in_app channel, read as a feed, counted for the badge, caught
// up on by a stream, and removed when old. Every change a stream must hear of ends with a NOTIFY on
// INBOX_NOTIFY_CHANNEL in the same statement, so it reaches every API process once it commits.
import type { InboxAction, InboxContent } from '../activities/channels/in-app/content.js';
import { Prisma, type Db } from './db.js';

/** The PostgreSQL channel API processes LISTEN on (src/store/inbox-listener.ts). */
export const INBOX_NOTIFY_CHANNEL = 'herald_inbox';

/** What a NOTIFY says: whose inbox changed, and how (`s`: the new message's number). */
export interface InboxChange {
  u: string;
  k: 'message' | 'counts' | 'revoked';
  s?: number;
}

/** `pg_notify` of a change of user `userId` (a SQL expression), as one JSON payload. */
export const notifyChange = (
  userId: Prisma.Sql,
  kind: InboxChange['k'],
  seq: Prisma.Sql = Prisma.sql`NULL`,
) =>
  Prisma.sql`pg_notify(${INBOX_NOTIFY_CHANNEL},
    json_strip_nulls(json_build_object('u', ${userId}, 'k', ${kind}::text, 's', ${seq}))::text)`;

/** A message as the feed shows it. */
export interface InboxItem {
  id: string;
  /** Numbers the user's messages in the order they were stored: the stream's event id. */
  seq: number;
  title: string;
  body: string;
  url: string | null;
  actions: InboxAction[];
  category: string;
  data: Record<string, unknown>;
  createdAt: Date;
  seenAt: Date | null;
  readAt: Date | null;
  archivedAt: Date | null;
  /** Whether it offers an acknowledge action, and when it was acknowledged (on its in_app delivery). */
  ackRequested: boolean;
  acknowledgedAt: Date | null;
}

/** The columns of an InboxItem, from `inbox_messages m`. */
export const ITEM_COLUMNS = Prisma.sql`m.id::text AS id, m.seq, m.title, m.body, m.url, m.actions,
  m.category, m.data, m.created_at AS "createdAt", m.seen_at AS "seenAt", m.read_at AS "readAt",
  m.archived_at AS "archivedAt", m.ack_requested AS "ackRequested",
  (SELECT d.acknowledged_at FROM deliveries d
    WHERE d.notification_id = m.notification_id AND d.channel = 'in_app') AS "acknowledgedAt"`;

/**
 * Stores a notification's message in its user's inbox, numbered after the user's last one, and tells the
 * streams. Idempotent: a retried delivery finds the message stored before and stores nothing.
 */
export async function storeInboxMessage(
  db: Db,
  userId: string,
  notificationId: string,
  content: InboxContent,
): Promise<{ id: string; seq: number; created: boolean }> {
  // The counter's row lock is held until the statement commits: a user's messages commit in the order
  // of their numbers, so a stream that has seen number n has seen every number below it.
  for (let i = 0; i < 2; i++) {
    const [row] = await db.$queryRaw<{ id: string; seq: number; created: boolean }[]>`
      WITH existing AS (
        SELECT id, seq FROM inbox_messages WHERE notification_id = ${notificationId}::uuid
      ), counter AS (
        INSERT INTO inboxes (user_id, last_seq)
        SELECT ${userId}::uuid, 1 WHERE NOT EXISTS (SELECT 1 FROM existing)
        ON CONFLICT (user_id) DO UPDATE SET last_seq = inboxes.last_seq + 1
        RETURNING last_seq
      ), stored AS (
        INSERT INTO inbox_messages (id, user_id, notification_id, seq, category, title, body, url,
          actions, data, ack_requested, created_at)
        SELECT gen_random_uuid(), ${userId}::uuid, ${notificationId}::uuid, counter.last_seq,
          ${content.category}, ${content.title}, ${content.body}, ${content.url},
          ${JSON.stringify(content.actions)}::jsonb, ${JSON.stringify(content.data)}::jsonb,
          ${content.ackRequested}, now() AT TIME ZONE 'UTC'
        FROM counter
        ON CONFLICT (notification_id) DO NOTHING
        RETURNING id, seq
      ), told AS (
        SELECT count(${notifyChange(Prisma.sql`${userId}::text`, 'message', Prisma.sql`stored.seq`)}) AS n
        FROM stored
      )
      SELECT stored.id::text AS id, stored.seq, true AS created FROM stored CROSS JOIN told
      UNION ALL
      SELECT id::text, seq, false FROM existing`;
    if (row) return row;
    // Another attempt stored it meanwhile (this statement's snapshot missed it): the second try finds it.
  }
  throw new Error(`the in-app message of notification ${notificationId} could not be stored or found`);
}

export type FeedFilter = 'unread' | 'all' | 'archived';

const FILTERS: Record<FeedFilter, Prisma.Sql> = {
  unread: Prisma.sql`m.read_at IS NULL AND m.archived_at IS NULL`,
  all: Prisma.sql`m.archived_at IS NULL`,
  archived: Prisma.sql`m.archived_at IS NOT NULL`,
};

/** A page of the user's feed, newest first, from before message number `before` when given. */
export function listInboxMessages(
  db: Db,
  userId: string,
  page: { filter: FeedFilter; before?: number; limit: number },
): Promise<InboxItem[]> {
  return db.$queryRaw<InboxItem[]>`
    SELECT ${ITEM_COLUMNS} FROM inbox_messages m
    WHERE m.user_id = ${userId}::uuid AND ${FILTERS[page.filter]}
      ${page.before === undefined ? Prisma.empty : Prisma.sql`AND m.seq < ${page.before}`}
    ORDER BY m.seq DESC
    LIMIT ${page.limit}`;
}

/** Messages stored after number `after`, oldest first (a stream's catch-up); archived ones are left out. */
export function inboxMessagesAfter(
  db: Db,
  userId: string,
  after: number,
  limit: number,
): Promise<InboxItem[]> {
  return db.$queryRaw<InboxItem[]>`
    SELECT ${ITEM_COLUMNS} FROM inbox_messages m
    WHERE m.user_id = ${userId}::uuid AND m.seq > ${after} AND m.archived_at IS NULL
    ORDER BY m.seq
    LIMIT ${limit}`;
}

/** The user's messages among these ids (another user's are absent). */
export function findInboxMessages(db: Db, userId: string, ids: string[]): Promise<InboxItem[]> {
  return db.$queryRaw<InboxItem[]>`
    SELECT ${ITEM_COLUMNS} FROM inbox_messages m
    WHERE m.user_id = ${userId}::uuid AND m.id = ANY (${ids}::uuid[])`;
}

export interface InboxCounts {
  unread: number;
  unseen: number;
}

/** The badge's numbers. Reading marks a message seen too, so the unseen are among the unread. */
export async function inboxCounts(db: Db, userId: string): Promise<InboxCounts & { lastSeq: number }> {
  const [row] = await db.$queryRaw<{ unread: number; unseen: number; lastSeq: number }[]>`
    SELECT count(*)::int AS unread, (count(*) FILTER (WHERE m.seen_at IS NULL))::int AS unseen,
      COALESCE((SELECT last_seq FROM inboxes WHERE user_id = ${userId}::uuid), 0) AS "lastSeq"
    FROM inbox_messages m
    WHERE m.user_id = ${userId}::uuid AND m.read_at IS NULL AND m.archived_at IS NULL`;
  return row!;
}

/**
 * Removes up to `limit` read or archived messages stored before `before`; returns how many. Unread ones
 * stay, however old: nobody has seen them yet.
 */
export async function pruneInboxMessages(db: Db, before: Date, limit: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM inbox_messages WHERE id IN (
      SELECT id FROM inbox_messages
      WHERE created_at < ${before.toISOString()}::timestamptz AT TIME ZONE 'UTC'
        AND (read_at IS NOT NULL OR archived_at IS NOT NULL)
      LIMIT ${limit})`;
}
