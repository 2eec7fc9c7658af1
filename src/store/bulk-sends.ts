// Bulk sends: every recipient of a bulk request resolved in one query, and all its notifications
// recorded in one statement with the bulk row that the fan-out workflow reads them back from.
import { Prisma, type Db } from './db.js';
import {
  CONTENT_COLUMNS,
  UNSTARTED_FIELDS,
  contentValues,
  type NewNotification,
  type UnstartedCandidate,
} from './notifications.js';

/**
 * What every notification of one bulk request shares, bound once: a single notification's fields but
 * those that differ per recipient.
 */
export type BulkCommon = Omit<
  NewNotification,
  'id' | 'userIdOrExternalId' | 'idempotencyKey' | 'requestHash' | 'workflowId'
>;

/** What differs between the notifications of one bulk request. */
export interface BulkItem {
  id: string;
  userId: string;
  idempotencyKey: string | null;
  requestHash: string;
  workflowId: string;
}

/**
 * The notifications table's columns as a bulk insert fills them: the shared ones from one value, the
 * per-recipient ones from arrays unnested side by side (PostgreSQL's 65,535 bind parameters never
 * come near). The content columns are shared with a single notification (CONTENT_COLUMNS).
 */
function bulkColumns(common: BulkCommon): [column: string, value: Prisma.Sql][] {
  const content = contentValues(common);
  return [
    ['id', Prisma.sql`item.id`],
    ['user_id', Prisma.sql`item.user_id`],
    ['idempotency_key', Prisma.sql`item.idempotency_key`],
    ['request_hash', Prisma.sql`item.request_hash`],
    ['workflow_id', Prisma.sql`item.workflow_id`],
    ...CONTENT_COLUMNS.map((column, i): [string, Prisma.Sql] => [column, content[i]!]),
    ['status', Prisma.sql`${common.status}::"NotificationStatus"`],
    ['request_id', Prisma.sql`${common.requestId}::text`],
    ['created_at', Prisma.sql`now() AT TIME ZONE 'UTC'`],
    ['updated_at', Prisma.sql`now() AT TIME ZONE 'UTC'`],
  ];
}

/**
 * Each recipient's user id, in the order given; null where no user has that id or externalId. The id
 * match wins over an externalId, as for a single notification.
 */
export async function resolveRecipients(
  db: Db,
  recipients: readonly { given: string; asUuid: string | null }[],
): Promise<(string | null)[]> {
  if (recipients.length === 0) return [];
  const rows = await db.$queryRaw<{ ord: bigint; userId: string | null }[]>`
    SELECT r.ord, coalesce(by_id.id, by_external.id)::text AS "userId"
    FROM unnest(${recipients.map((r) => r.given)}::text[], ${recipients.map((r) => r.asUuid)}::uuid[])
      WITH ORDINALITY AS r(given, as_uuid, ord)
    LEFT JOIN users by_id ON by_id.id = r.as_uuid
    LEFT JOIN users by_external ON by_external.external_id = r.given
    ORDER BY r.ord`;
  return rows.map((r) => r.userId);
}

/**
 * Records the notifications and, when any is new and `bulkSendId` is given, the bulk row listing them in
 * the order given, in one statement. An item whose Idempotency-Key was used before, or whose user was
 * deleted meanwhile, is left out; the ids returned are those recorded, and `bulkSendId` is set only when
 * the bulk row was.
 */
export async function insertBulkNotifications(
  db: Db,
  bulkSendId: string | null,
  common: BulkCommon,
  items: readonly BulkItem[],
): Promise<{ inserted: Set<string>; bulkSendId: string | null }> {
  if (items.length === 0) return { inserted: new Set(), bulkSendId: null };
  const columns = bulkColumns(common);
  const bulk = bulkSendId
    ? Prisma.sql`
      INSERT INTO bulk_sends (id, notification_ids, request_id, source, created_at)
      SELECT ${bulkSendId}::uuid, array_agg(item.id ORDER BY item.ord), ${common.requestId}::text,
        ${common.source}::text, now() AT TIME ZONE 'UTC'
      FROM inserted JOIN item ON item.id = inserted.id
      HAVING count(*) > 0
      RETURNING id`
    : Prisma.sql`SELECT NULL::uuid AS id WHERE false`;
  const rows = await db.$queryRaw<{ id: string | null; bulkSendId: string | null }[]>`
    WITH item AS (
      SELECT * FROM unnest(
        ${items.map((i) => i.id)}::uuid[],
        ${items.map((i) => i.userId)}::uuid[],
        ${items.map((i) => i.idempotencyKey)}::text[],
        ${items.map((i) => i.requestHash)}::text[],
        ${items.map((i) => i.workflowId)}::text[]
      ) WITH ORDINALITY AS item(id, user_id, idempotency_key, request_hash, workflow_id, ord)
    ),
    inserted AS (
      INSERT INTO notifications (${Prisma.raw(columns.map(([column]) => column).join(', '))})
      SELECT ${Prisma.join(columns.map(([, value]) => value))}
      -- A user deleted since the recipients were resolved is skipped, not a failed statement.
      FROM item JOIN users ON users.id = item.user_id
      ORDER BY item.ord
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id
    ),
    bulk AS (${bulk})
    SELECT inserted.id::text AS id, NULL AS "bulkSendId" FROM inserted
    UNION ALL
    SELECT NULL, bulk.id::text FROM bulk`;
  const inserted = new Set<string>();
  let recorded: string | null = null;
  for (const row of rows) {
    if (row.id) inserted.add(row.id);
    if (row.bulkSendId) recorded = row.bulkSendId;
  }
  return { inserted, bulkSendId: recorded };
}

/** Records a bulk row for notifications recorded one by one (after the one statement failed). */
export async function insertBulkSend(
  db: Db,
  bulk: { id: string; notificationIds: string[]; requestId: string; source: string | null },
): Promise<void> {
  await db.bulkSend.create({ data: bulk });
}

/** Notifications found by their Idempotency-Keys: what an earlier request recorded. */
export function findByIdempotencyKeys(db: Db, keys: readonly string[]) {
  return db.notification.findMany({
    where: { idempotencyKey: { in: [...keys] } },
    select: { id: true, idempotencyKey: true, requestHash: true, status: true, workflowId: true },
  });
}

/**
 * One page of a bulk send's notifications, `offset` from its start, in its order: those still waiting
 * for their workflow (accepted or scheduled), with what starting it takes. One that has moved on was
 * started; one whose user was deleted is gone.
 */
export async function bulkSendPage(
  db: Db,
  bulkSendId: string,
  offset: number,
  limit: number,
): Promise<{
  ids: string[];
  /** The ids of the page before this one (the fan-out's window counts them too). */
  previousIds: string[];
  requestId: string | null;
  unstarted: Map<string, UnstartedCandidate>;
}> {
  const previousFrom = Math.max(0, offset - limit);
  const [bulk] = await db.$queryRaw<
    { ids: string[] | null; previousIds: string[] | null; requestId: string | null }[]
  >`
    SELECT notification_ids[${offset + 1}:${offset + limit}]::text[] AS ids,
      notification_ids[${previousFrom + 1}:${offset}]::text[] AS "previousIds", request_id AS "requestId"
    FROM bulk_sends WHERE id = ${bulkSendId}::uuid`;
  const ids = bulk?.ids ?? [];
  const rows = await db.notification.findMany({
    where: { id: { in: ids }, status: { in: ['accepted', 'scheduled'] } },
    select: UNSTARTED_FIELDS,
  });
  return {
    ids,
    previousIds: bulk?.previousIds ?? [],
    requestId: bulk?.requestId ?? null,
    unstarted: new Map(rows.map((row) => [row.id, row])),
  };
}

/** How many of these notifications are still `accepted`: their workflow has not taken its first step. */
export async function countAccepted(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM notifications
    WHERE id = ANY(${ids as string[]}::uuid[]) AND status = 'accepted'`;
  return row?.count ?? 0;
}

/** How long a fan-out's lease lasts unless renewed: past it, the reconciler takes the send's notifications. */
export const FAN_OUT_LEASE_MS = 2 * 60_000;

/** The bulk send's fan-out is pacing its starts: renews its lease. */
export async function holdFanOutLease(db: Db, bulkSendId: string): Promise<void> {
  await db.$executeRaw`UPDATE bulk_sends
    SET fanning_out_until = (now() + ${FAN_OUT_LEASE_MS}::float8 * interval '1 millisecond') AT TIME ZONE 'UTC'
    WHERE id = ${bulkSendId}::uuid`;
}

/** Notifications of bulk sends whose fan-out holds a lease: the reconciler leaves them to it. */
export async function notificationsBeingFannedOut(db: Db): Promise<Set<string>> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT unnest(notification_ids)::text AS id FROM bulk_sends WHERE fanning_out_until > now() AT TIME ZONE 'UTC'`;
  return new Set(rows.map((r) => r.id));
}
