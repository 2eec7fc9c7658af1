// What the reader does to inbox messages (seen, read, unread, archived, all read) and the version of a
// user's inbox tokens. Each change is one statement that also records the read on the in_app delivery
// and tells the user's streams (NOTIFY), so every API process updates its badges.
import { ITEM_COLUMNS, notifyChange, type InboxItem } from './inbox.js';
import { Prisma, type Db } from './db.js';

export type InboxMark = 'seen' | 'read' | 'unread' | 'archive';

const NOW = Prisma.sql`now() AT TIME ZONE 'UTC'`;
const CHANGES: Record<InboxMark, Prisma.Sql> = {
  seen: Prisma.sql`seen_at = COALESCE(m.seen_at, ${NOW})`,
  // Read is seen too: the unseen are always among the unread.
  read: Prisma.sql`read_at = COALESCE(m.read_at, ${NOW}), seen_at = COALESCE(m.seen_at, ${NOW})`,
  unread: Prisma.sql`read_at = NULL`,
  archive: Prisma.sql`archived_at = COALESCE(m.archived_at, ${NOW})`,
};

/** A marked message, whether this call moved it from unread to read, and its notification's workflow. */
export interface MarkedMessage {
  item: InboxItem;
  becameRead: boolean;
  notificationId: string;
  workflowId: string;
}

/**
 * Marks one of the user's messages; undefined when the user has no such message (another user's is
 * absent too). `clicked`: the reader opened its link or pressed a button, which the delivery records.
 */
export async function markInboxMessage(
  db: Db,
  userId: string,
  messageId: string,
  mark: InboxMark,
  clicked = false,
): Promise<MarkedMessage | undefined> {
  // Reading, and clicking (which reads), are recorded on the delivery as well; its first time counts.
  const recordOnDelivery =
    mark === 'read'
      ? Prisma.sql`UPDATE deliveries SET read_at = COALESCE(read_at, ${NOW})
          ${clicked ? Prisma.sql`, clicked_at = COALESCE(clicked_at, ${NOW})` : Prisma.empty}
        WHERE channel = 'in_app' AND notification_id = (SELECT "notificationId"::uuid FROM marked)`
      : Prisma.sql`SELECT 1`;
  const [row] = await db.$queryRaw<(InboxItem & Omit<MarkedMessage, 'item'> & { changed: boolean })[]>`
    WITH old AS (
      SELECT id, seen_at, read_at, archived_at FROM inbox_messages
      WHERE id = ${messageId}::uuid AND user_id = ${userId}::uuid
      FOR UPDATE
    ), marked AS (
      UPDATE inbox_messages m SET ${CHANGES[mark]}
      FROM old WHERE m.id = old.id
      RETURNING ${ITEM_COLUMNS}, m.notification_id::text AS "notificationId",
        (old.read_at IS NULL AND m.read_at IS NOT NULL) AS "becameRead",
        (old.seen_at IS DISTINCT FROM m.seen_at OR old.read_at IS DISTINCT FROM m.read_at
          OR old.archived_at IS DISTINCT FROM m.archived_at) AS changed
    ), delivery AS (
      -- A data-modifying WITH runs whether or not it is read.
      ${recordOnDelivery}
    ), told AS (
      SELECT count(${notifyChange(Prisma.sql`${userId}::text`, 'counts')}) AS n FROM marked WHERE changed
    )
    SELECT marked.*, n.workflow_id AS "workflowId"
    FROM marked JOIN notifications n ON n.id = marked."notificationId"::uuid
      CROSS JOIN told`;
  if (!row) return undefined;
  const { notificationId, workflowId, becameRead, changed: _, ...item } = row;
  return { item, becameRead, notificationId, workflowId };
}

/** Marks every unread message of the user read; returns the notifications that became read. */
export function markAllInboxMessagesRead(
  db: Db,
  userId: string,
): Promise<{ notificationId: string; workflowId: string }[]> {
  return db.$queryRaw`
    WITH marked AS (
      UPDATE inbox_messages SET read_at = ${NOW}, seen_at = COALESCE(seen_at, ${NOW})
      WHERE user_id = ${userId}::uuid AND read_at IS NULL AND archived_at IS NULL
      RETURNING notification_id
    ), delivery AS (
      UPDATE deliveries SET read_at = COALESCE(read_at, ${NOW})
      WHERE channel = 'in_app' AND notification_id IN (SELECT notification_id FROM marked)
    ), told AS (
      SELECT count(${notifyChange(Prisma.sql`${userId}::text`, 'counts')}) AS n
      FROM (SELECT 1 FROM marked LIMIT 1) changed
    )
    SELECT marked.notification_id::text AS "notificationId", n.workflow_id AS "workflowId"
    FROM marked JOIN notifications n ON n.id = marked.notification_id CROSS JOIN told`;
}

/**
 * The version the user's next inbox token carries, making the user's inbox row if need be; undefined
 * when there is no such user.
 */
export async function currentTokenVersion(db: Db, userId: string): Promise<number | undefined> {
  const [row] = await db.$queryRaw<{ version: number }[]>`
    WITH made AS (
      INSERT INTO inboxes (user_id) SELECT id FROM users WHERE id = ${userId}::uuid
      ON CONFLICT (user_id) DO NOTHING
      RETURNING token_version
    )
    SELECT token_version AS version FROM made
    UNION ALL
    SELECT token_version FROM inboxes WHERE user_id = ${userId}::uuid`;
  return row?.version;
}

/** The version a token of the user must carry to be valid; undefined when none was ever issued. */
export async function validTokenVersion(db: Db, userId: string): Promise<number | undefined> {
  const [row] = await db.$queryRaw<{ version: number }[]>`
    SELECT token_version AS version FROM inboxes WHERE user_id = ${userId}::uuid`;
  return row?.version;
}

/** Voids every inbox token the user holds, and ends the streams they opened. */
export async function revokeInboxTokens(db: Db, userId: string): Promise<void> {
  await db.$queryRaw`
    WITH bumped AS (
      UPDATE inboxes SET token_version = token_version + 1 WHERE user_id = ${userId}::uuid
      RETURNING user_id
    )
    SELECT count(${notifyChange(Prisma.sql`bumped.user_id::text`, 'revoked')}) AS n FROM bumped`;
}
