// A broadcast's rows: the broadcast itself, its recipients' notifications (inserted a batch at a time),
// and its progress, counted from those notifications by status.
import { NOTIFICATION_OUTCOMES, type ChannelName } from '../workflows/definitions.js';
import { Prisma, type Db, type NotificationStatus } from './db.js';
import { CONTENT_COLUMNS, contentValues, type NotificationContent } from './notifications.js';
import type { NotificationPriority } from '../workflows/priority.js';

/** A broadcast carries what its recipients' notifications will say (copied into each as it starts). */
export interface NewBroadcast extends NotificationContent {
  id: string;
  topicKey: string;
  idempotencyKey: string | null;
  requestHash: string;
  workflowId: string;
  requestId: string;
}

export type BroadcastStatus = 'accepted' | 'starting' | 'started' | 'cancelled';

export interface BroadcastRow {
  id: string;
  topicKey: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  category: string;
  title: string | null;
  template: string | null;
  channels: ChannelName[];
  fallback: boolean;
  priority: NotificationPriority;
  sendAt: Date | null;
  status: BroadcastStatus;
  recipients: number;
  started: number;
  workflowId: string;
  source: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

const BROADCAST_COLUMNS = `b.id::text AS id, t.key AS "topicKey", b.idempotency_key AS "idempotencyKey",
  b.request_hash AS "requestHash", b.category, b.title, b.template, b.channels::text[] AS channels,
  b.fallback, b.priority::text AS priority, b.send_at AS "sendAt", b.status::text AS status, b.recipients, b.started,
  b.workflow_id AS "workflowId", b.source, b.created_at AS "createdAt", b.completed_at AS "completedAt"`;

/**
 * Records the broadcast and takes its snapshot in one statement: the subscriptions up to the largest id
 * now, and how many of them the topic has. Undefined when the topic is unknown or the Idempotency-Key
 * was used before.
 */
export async function insertBroadcast(db: Db, b: NewBroadcast): Promise<{ recipients: number } | undefined> {
  const [row] = await db.$queryRaw<{ recipients: number }[]>`
    WITH boundary AS (SELECT coalesce(max(id), 0) AS id FROM topic_subscriptions)
    INSERT INTO broadcasts (id, topic_id, idempotency_key, request_hash, workflow_id, request_id,
      ${Prisma.raw(CONTENT_COLUMNS.join(', '))}, status, snapshot_subscription_id, recipients,
      created_at, updated_at)
    SELECT ${b.id}::uuid, t.id, ${b.idempotencyKey}, ${b.requestHash}, ${b.workflowId}, ${b.requestId},
      ${Prisma.join(contentValues(b))}, 'accepted', boundary.id,
      (SELECT count(*) FROM topic_subscriptions s WHERE s.topic_id = t.id AND s.id <= boundary.id),
      now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM topics t, boundary
    WHERE t.key = ${b.topicKey}
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING recipients`;
  return row;
}

export async function findBroadcast(db: Db, id: string): Promise<BroadcastRow | undefined> {
  const [row] = await db.$queryRawUnsafe<BroadcastRow[]>(
    `SELECT ${BROADCAST_COLUMNS} FROM broadcasts b JOIN topics t ON t.id = b.topic_id WHERE b.id = $1::uuid`,
    id,
  );
  return row;
}

export async function findBroadcastByIdempotencyKey(db: Db, key: string): Promise<BroadcastRow | undefined> {
  const [row] = await db.$queryRawUnsafe<BroadcastRow[]>(
    `SELECT ${BROADCAST_COLUMNS} FROM broadcasts b JOIN topics t ON t.id = b.topic_id
     WHERE b.idempotency_key = $1`,
    key,
  );
  return row;
}

/** One page of the snapshot: subscriptions after `after` (a subscription id) up to the boundary. */
export async function snapshotPage(
  db: Db,
  page: { broadcastId: string; after: string; limit: number },
): Promise<{ subscriptionId: string; userId: string }[]> {
  return db.$queryRaw<{ subscriptionId: string; userId: string }[]>`
    SELECT s.id::text AS "subscriptionId", s.user_id::text AS "userId"
    FROM broadcasts b
    JOIN topic_subscriptions s
      ON s.topic_id = b.topic_id AND s.id > ${page.after}::bigint AND s.id <= b.snapshot_subscription_id
    WHERE b.id = ${page.broadcastId}::uuid
    ORDER BY s.id
    LIMIT ${page.limit}`;
}

export interface RecipientNotification {
  id: string;
  userId: string;
  category: string;
  channels: ChannelName[];
  sendAt: Date | null;
  fallback: boolean;
  ack: boolean;
  status: NotificationStatus;
  workflowId: string;
  priority: NotificationPriority;
  source: string | null;
  flowKey: string | null;
  flowVersion: number | null;
}

/**
 * Records the recipients' notifications in one statement, copying the broadcast's content, and returns
 * each with its status. The ids come from the caller (derived from broadcast and user), so a retried batch
 * finds the rows of an earlier try instead of inserting them again. A user deleted meanwhile is left out.
 */
export async function insertRecipientNotifications(
  db: Db,
  broadcastId: string,
  recipients: readonly { id: string; userId: string; workflowId: string }[],
  requestId: string,
): Promise<RecipientNotification[]> {
  const ids = recipients.map((r) => r.id);
  return db.$queryRaw<RecipientNotification[]>`
    WITH inserted AS (
      INSERT INTO notifications (id, user_id, broadcast_id, workflow_id, request_id, status,
        ${Prisma.raw(CONTENT_COLUMNS.join(', '))}, created_at, updated_at)
      SELECT r.id, r.user_id, b.id, r.workflow_id, ${requestId},
        CASE WHEN b.send_at IS NULL THEN 'accepted' ELSE 'scheduled' END::"NotificationStatus",
        ${Prisma.raw(CONTENT_COLUMNS.map((column) => `b.${column}`).join(', '))},
        now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
      FROM unnest(${ids}::uuid[], ${recipients.map((r) => r.userId)}::uuid[],
                  ${recipients.map((r) => r.workflowId)}::text[]) AS r(id, user_id, workflow_id)
      JOIN users u ON u.id = r.user_id
      JOIN broadcasts b ON b.id = ${broadcastId}::uuid
      ON CONFLICT DO NOTHING
      RETURNING id, user_id, category, channels, send_at, fallback, ack, status, workflow_id, priority, source,
        flow_key, flow_version
    ), earlier AS (
      SELECT id, user_id, category, channels, send_at, fallback, ack, status, workflow_id, priority, source,
        flow_key, flow_version
      FROM notifications WHERE id = ANY (${ids}::uuid[])
    )
    SELECT id::text, user_id::text AS "userId", category, channels::text[] AS channels, send_at AS "sendAt",
      fallback, ack, status::text AS status, workflow_id AS "workflowId", priority::text AS priority, source,
      flow_key AS "flowKey", flow_version AS "flowVersion"
    FROM (SELECT * FROM inserted UNION ALL SELECT * FROM earlier) n`;
}

/** The notifications started so far (a count only grows: a replayed batch never lowers it). */
export async function recordBroadcastStarted(db: Db, broadcastId: string, started: number): Promise<void> {
  await db.$executeRaw`
    UPDATE broadcasts
    SET started = GREATEST(started, ${started}::int),
        status = CASE WHEN status = 'accepted' THEN 'starting' ELSE status END,
        updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${broadcastId}::uuid`;
}

/**
 * The broadcast's end: `started` (every recipient's notification started; the recipients are then those
 * started, without the users deleted or unsubscribed before their page was read) or `cancelled`.
 */
export async function recordBroadcastEnd(
  db: Db,
  broadcastId: string,
  status: 'started' | 'cancelled',
): Promise<void> {
  await db.$executeRaw`
    UPDATE broadcasts
    SET status = ${status}::"BroadcastStatus",
        recipients = CASE WHEN ${status} = 'started' THEN started ELSE recipients END,
        completed_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${broadcastId}::uuid AND status <> 'cancelled'`;
}

/**
 * The caller's reason for a cancel through the API, recorded before the cancel records the row
 * `cancelled` (the broadcast's workflow or its cleanup does that), so a recipient that finds the row
 * cancelled finds the reason too. A cancelled row keeps its reason; until then the latest cancel asked
 * for names it (NULL: it gave none), even one that did not get through (a 503, to be repeated).
 */
export async function recordCancelReason(db: Db, broadcastId: string, reason: string | null): Promise<void> {
  await db.$executeRaw`
    UPDATE broadcasts SET cancel_reason = ${reason}, updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${broadcastId}::uuid AND status <> 'cancelled'`;
}

/**
 * The reason a recipient's notification ends with when its broadcast's row stopped it: the one the
 * API's cancel gave, or undefined (none given, cancelled from Temporal, or no broadcast).
 */
export async function broadcastCancelReason(db: Db, notificationId: string): Promise<string | undefined> {
  const [row] = await db.$queryRaw<{ reason: string | null }[]>`
    SELECT b.cancel_reason AS reason FROM notifications n JOIN broadcasts b ON b.id = n.broadcast_id
    WHERE n.id = ${notificationId}::uuid AND b.status = 'cancelled'`;
  return row?.reason ?? undefined;
}

/**
 * SQL: whether the notification's broadcast was cancelled, the check that stops a recipient's delivery
 * (openAttempt) and its resolve (loadRecipient). For a notification of no broadcast (broadcast_id NULL)
 * it is one primary-key read of the notification: the broadcast's row is read only for a recipient.
 */
export const broadcastCancelledSql = (notificationId: string): Prisma.Sql => Prisma.sql`EXISTS (
  SELECT 1 FROM notifications bn
  WHERE bn.id = ${notificationId}::uuid AND bn.broadcast_id IS NOT NULL
    AND (SELECT b.status FROM broadcasts b WHERE b.id = bn.broadcast_id) = 'cancelled')`;

/** The recipients' notifications by status, from the (broadcast_id, status) index. */
export async function countRecipientsByStatus(
  db: Db,
  broadcastId: string,
): Promise<Partial<Record<NotificationStatus, number>>> {
  const rows = await db.$queryRaw<{ status: NotificationStatus; count: number }[]>`
    SELECT status::text AS status, count(*)::int AS count FROM notifications
    WHERE broadcast_id = ${broadcastId}::uuid GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.count]));
}

/** Recipients' notifications still `accepted` (recorded; started or not, their first step not yet taken). */
export async function countAcceptedRecipients(db: Db, broadcastId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM notifications
    WHERE broadcast_id = ${broadcastId}::uuid AND status = 'accepted'`;
  return row?.count ?? 0;
}

/**
 * Broadcasts whose fan-out is running: their workflow is starting their recipients, and has recorded a
 * batch within 10 minutes (one terminated from the Temporal UI stops counting then).
 */
export async function broadcastsStarting(db: Db): Promise<Set<string>> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM broadcasts
    WHERE status IN ('accepted', 'starting') AND updated_at > (now() - interval '10 minutes') AT TIME ZONE 'UTC'`;
  return new Set(rows.map((r) => r.id));
}

const OUTCOMES: string[] = [...NOTIFICATION_OUTCOMES];

/** A page of the recipients' notifications that have not ended: what a cancel must stop. */
export async function openRecipientNotifications(
  db: Db,
  page: { broadcastId: string; after: string | null; limit: number },
): Promise<{ id: string; workflowId: string; status: NotificationStatus }[]> {
  return db.$queryRaw<{ id: string; workflowId: string; status: NotificationStatus }[]>`
    SELECT id::text, workflow_id AS "workflowId", status::text AS status FROM notifications
    WHERE broadcast_id = ${page.broadcastId}::uuid AND status <> ALL (${OUTCOMES}::"NotificationStatus"[])
      AND id > coalesce(${page.after}::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
    ORDER BY id
    LIMIT ${page.limit}`;
}

/** A recorded notification whose workflow never started is cancelled here, so the reconciler leaves it. */
export async function cancelUnstartedNotification(db: Db, id: string, reason: string): Promise<void> {
  await db.$executeRaw`
    WITH cancelled AS (
      UPDATE notifications SET status = 'cancelled', completed_at = now() AT TIME ZONE 'UTC',
        updated_at = now() AT TIME ZONE 'UTC'
      WHERE id = ${id}::uuid AND status IN ('accepted', 'scheduled')
      RETURNING id
    )
    UPDATE deliveries SET status = 'cancelled', last_error = ${reason}, updated_at = now() AT TIME ZONE 'UTC'
    WHERE notification_id IN (SELECT id FROM cancelled) AND status IN ('pending', 'sending', 'retrying')`;
}

/** Broadcasts recorded before `recordedBefore` whose workflow may never have started (for the reconciler). */
/** What starting a broadcast's workflow takes. */
export interface UnstartedBroadcast {
  id: string;
  workflowId: string;
  recipients: number;
  category: string;
  priority: NotificationPriority;
  source: string | null;
}

export async function findUnstartedBroadcasts(
  db: Db,
  recordedBefore: Date,
  limit: number,
): Promise<UnstartedBroadcast[]> {
  return db.$queryRaw`
    SELECT id::text, workflow_id AS "workflowId", recipients, category, priority::text AS priority, source
    FROM broadcasts
    WHERE status = 'accepted' AND created_at < ${recordedBefore.toISOString()}::timestamptz AT TIME ZONE 'UTC'
    ORDER BY created_at LIMIT ${limit}`;
}
