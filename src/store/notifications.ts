// A notification's lifecycle in the database: recorded on accept, planned (its deliveries), in progress,
// completed. Each function is the one writer of that change of status; deliveries.ts writes attempts.
import { isUuid } from '../platform/uuid.js';
import { ACCEPTED_STATUSES, type ChannelName, type NotificationOutcome } from '../workflows/definitions.js';
import { Prisma, type Db, type NotificationStatus } from './db.js';
import type { NotificationPriority } from '../workflows/priority.js';

export interface NewNotification {
  id: string;
  /** Herald's id or the caller's externalId of the recipient. */
  userIdOrExternalId: string;
  idempotencyKey: string | null;
  requestHash: string;
  category: string;
  title: string | null;
  body: string | null;
  template: string | null;
  data: Record<string, unknown>;
  channels: ChannelName[];
  fallback: boolean;
  ack: boolean;
  sendAt: Date | null;
  status: NotificationStatus;
  workflowId: string;
  requestId: string;
  source: string | null;
  priority: NotificationPriority;
  /** The flow version pinned (docs/flows.md), and the cancellation key. */
  flowKey?: string | null;
  flowVersion?: number | null;
  cancellationKey?: string | null;
}

/**
 * What a notification says and how it travels: the fields a single notification, each recipient of a
 * bulk request and a broadcast (then each of its recipients) carry alike.
 */
export type NotificationContent = Pick<
  NewNotification,
  | 'category'
  | 'title'
  | 'body'
  | 'template'
  | 'data'
  | 'channels'
  | 'fallback'
  | 'ack'
  | 'sendAt'
  | 'source'
  | 'priority'
  | 'flowKey'
  | 'flowVersion'
  | 'cancellationKey'
>;

/**
 * The columns of NotificationContent, in the notifications and broadcasts tables alike, in the order of
 * contentValues: a new content field is one line in each.
 */
export const CONTENT_COLUMNS = [
  'category',
  'title',
  'body',
  'template',
  'data',
  'channels',
  'fallback',
  'ack',
  'send_at',
  'source',
  'priority',
  'flow_key',
  'flow_version',
  'cancellation_key',
] as const;

/** NotificationContent's values as typed SQL parameters, in the order of CONTENT_COLUMNS. */
export function contentValues(c: NotificationContent): Prisma.Sql[] {
  return [
    Prisma.sql`${c.category}::text`,
    Prisma.sql`${c.title}::text`,
    Prisma.sql`${c.body}::text`,
    Prisma.sql`${c.template}::text`,
    Prisma.sql`${JSON.stringify(c.data)}::jsonb`,
    Prisma.sql`${c.channels}::"Channel"[]`,
    Prisma.sql`${c.fallback}::boolean`,
    Prisma.sql`${c.ack}::boolean`,
    Prisma.sql`${c.sendAt?.toISOString() ?? null}::timestamptz AT TIME ZONE 'UTC'`,
    Prisma.sql`${c.source}::text`,
    Prisma.sql`${c.priority}::"NotificationPriority"`,
    Prisma.sql`${c.flowKey ?? null}::text`,
    Prisma.sql`${c.flowVersion ?? null}::int`,
    Prisma.sql`${c.cancellationKey ?? null}::text`,
  ];
}

/**
 * Finds the user and records the notification in one statement. Undefined when the user is unknown or
 * the Idempotency-Key was used before (a concurrent duplicate waits here for the first to commit).
 */
export async function insertNotification(
  db: Db,
  n: NewNotification,
): Promise<{ userId: string } | undefined> {
  const user = n.userIdOrExternalId;
  const [inserted] = await db.$queryRaw<{ userId: string }[]>`
    WITH recipient AS (
      SELECT id FROM users
      WHERE ${isUuid(user) ? Prisma.sql`id = ${user}::uuid OR ` : Prisma.empty} external_id = ${user}
      -- The id match first (false sorts before true): an externalId never shadows a user's id.
      ORDER BY external_id = ${user}
      LIMIT 1
    )
    INSERT INTO notifications (id, user_id, idempotency_key, request_hash, workflow_id, request_id,
      status, ${Prisma.raw(CONTENT_COLUMNS.join(', '))}, created_at, updated_at)
    SELECT ${n.id}::uuid, recipient.id, ${n.idempotencyKey}, ${n.requestHash}, ${n.workflowId},
      ${n.requestId}, ${n.status}::"NotificationStatus", ${Prisma.join(contentValues(n))},
      now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM recipient
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING user_id::text AS "userId"`;
  return inserted;
}

interface PlannedDelivery {
  channel: ChannelName;
  status: 'pending' | 'skipped';
  lastError?: string;
}

/**
 * Records the plan in one statement: a delivery row for each planned or skipped channel (a retried or
 * replayed resolve finds them there and leaves them), and the notification moves on from accepted or
 * scheduled.
 */
export async function recordPlan(
  db: Db,
  notificationId: string,
  deliveries: readonly PlannedDelivery[],
  status: 'processing' | 'deferred',
): Promise<void> {
  await db.$executeRaw`
    WITH planned AS (
      INSERT INTO deliveries (id, notification_id, channel, status, last_error, updated_at)
      SELECT gen_random_uuid(), ${notificationId}::uuid, d.channel, d.status, d.last_error,
             now() AT TIME ZONE 'UTC'
      FROM unnest(
        ${deliveries.map((d) => d.channel)}::"Channel"[],
        ${deliveries.map((d) => d.status)}::"DeliveryStatus"[],
        ${deliveries.map((d) => d.lastError ?? null)}::text[]
      ) AS d(channel, status, last_error)
      ON CONFLICT (notification_id, channel) DO NOTHING
    )
    UPDATE notifications SET status = ${status}::"NotificationStatus", updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${notificationId}::uuid AND status IN ('accepted', 'scheduled')`;
}

export interface FailedDelivery {
  channel: ChannelName;
  /** The last error the workflow saw; the delivery's own record of the provider's reason is kept. */
  error: string;
}

/**
 * Marks deliveries that gave up as failed, keeping the provider's reason when one was recorded. One the
 * provider accepted stays as it is, with any receipt it got.
 */
function markFailed(db: Db, notificationId: string, failed: readonly FailedDelivery[]) {
  const notAccepted = { notIn: [...ACCEPTED_STATUSES] };
  return failed.flatMap(({ channel, error }) => [
    db.delivery.updateMany({
      where: { notificationId, channel, status: notAccepted, lastError: null },
      data: { lastError: error },
    }),
    db.delivery.updateMany({
      where: { notificationId, channel, status: notAccepted },
      data: { status: 'failed' },
    }),
  ]);
}

/** Writes that must land together; a lone write needs no transaction (nor its BEGIN, COMMIT and wait). */
async function writeTogether(db: Db, writes: Prisma.PrismaPromise<unknown>[]): Promise<void> {
  if (writes.length === 1) await writes[0];
  else await db.$transaction(writes);
}

/**
 * The notification's state while it is still open: processing again, or failed and awaiting a retry;
 * for a flow resting in a delay or a wait, the steps it did so far (its status unchanged).
 */
export async function recordProgress(
  db: Db,
  notificationId: string,
  status: 'processing' | NotificationOutcome | undefined,
  failed: readonly FailedDelivery[] = [],
  flowTrace?: readonly object[],
): Promise<void> {
  await writeTogether(db, [
    ...markFailed(db, notificationId, failed),
    // updateMany: a notification deleted with its user is simply gone, not an error to retry.
    db.notification.updateMany({
      where: { id: notificationId },
      data: {
        ...(status ? { status } : {}),
        ...(flowTrace ? { flowTrace: flowTrace as Prisma.InputJsonValue } : {}),
      },
    }),
  ]);
}

/** Records the notification's final state; a cancelled one cancels every delivery not yet sent. */
export async function recordCompletion(
  db: Db,
  notificationId: string,
  outcome: NotificationOutcome,
  failed: readonly FailedDelivery[],
  reason?: string,
  flowTrace?: readonly object[],
): Promise<void> {
  await writeTogether(db, [
    ...markFailed(db, notificationId, failed),
    ...(outcome === 'cancelled'
      ? [
          db.delivery.updateMany({
            where: { notificationId, status: { in: ['pending', 'sending', 'retrying'] } },
            data: { status: 'cancelled', lastError: reason ?? 'cancelled' },
          }),
        ]
      : []),
    // A digested notification was marked when it joined: a cancellation key may have withdrawn it since.
    outcome === 'digested'
      ? db.notification.updateMany({
          where: { id: notificationId },
          data: { flowTrace: flowTrace as Prisma.InputJsonValue },
        })
      : db.notification.updateMany({
          where: { id: notificationId },
          data: {
            status: outcome,
            completedAt: new Date(),
            ...(flowTrace ? { flowTrace: flowTrace as Prisma.InputJsonValue } : {}),
          },
        }),
  ]);
}

/** A recorded notification as the reconciler reads it: enough to start its workflow. */
/** What starting a notification's workflow reads from its row: one list for the reconciler and the bulk fan-out. */
export const UNSTARTED_FIELDS = {
  id: true,
  userId: true,
  category: true,
  channels: true,
  sendAt: true,
  fallback: true,
  ack: true,
  workflowId: true,
  priority: true,
  source: true,
  flowKey: true,
  flowVersion: true,
  flowStartStep: true,
} as const;

export interface UnstartedCandidate {
  id: string;
  userId: string;
  category: string;
  channels: ChannelName[];
  sendAt: Date | null;
  fallback: boolean;
  ack: boolean;
  workflowId: string;
  /** Its start carries the notification's priority and fairness key, as the API's did. */
  priority: NotificationPriority;
  source: string | null;
  flowKey: string | null;
  flowVersion: number | null;
  flowStartStep: number | null;
}

/**
 * One page of notifications whose workflow may never have started: accepted ones recorded before
 * `recordedBefore` (a started run moves them on within seconds), and scheduled ones among those whose send
 * time is before `dueBefore` (a far-off one is checked once it comes near, not every run until then).
 * Served by the (status, created_at) index; pages follow (created_at, id).
 */
export async function findUnstartedCandidates(
  db: Db,
  page: { recordedBefore: Date; dueBefore: Date; after?: { createdAt: Date; id: string }; limit: number },
): Promise<(UnstartedCandidate & { createdAt: Date; broadcastId: string | null })[]> {
  const after = page.after;
  return db.notification.findMany({
    where: {
      status: { in: ['accepted', 'scheduled'] },
      createdAt: { lt: page.recordedBefore },
      OR: [{ status: 'accepted' }, { sendAt: { lt: page.dueBefore } }],
      ...(after
        ? {
            AND: [
              {
                OR: [
                  { createdAt: { gt: after.createdAt } },
                  { createdAt: after.createdAt, id: { gt: after.id } },
                ],
              },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: page.limit,
    select: { ...UNSTARTED_FIELDS, createdAt: true, broadcastId: true },
  });
}

/** How far back the preference page and the bot's /settings look for the categories a user gets. */
const RECENT_FOR_CATEGORIES = 500;

/**
 * The categories of the user's latest notifications, most recent first. Bounded: it reads the last
 * few hundred rows through the (user_id, created_at, id) index, however many the user has.
 */
export async function recentCategories(db: Db, userId: string, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ category: string }[]>`
    SELECT category FROM (
      SELECT category, created_at FROM notifications
      WHERE user_id = ${userId}::uuid
      ORDER BY created_at DESC, id DESC
      LIMIT ${RECENT_FOR_CATEGORIES}
    ) latest
    GROUP BY category
    ORDER BY max(created_at) DESC
    LIMIT ${limit}`;
  return rows.map((r) => r.category);
}
