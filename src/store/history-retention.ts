// History retention's statements: a notification that ended long ago goes with everything recorded
// under it (deliveries and their attempts, its inbox message: the foreign keys cascade) and the status
// webhooks' records of it (no foreign key), a bounded batch per statement so no statement holds many
// rows locked or runs long, and writers never wait behind it.
import type { NotificationOutcome } from '../workflows/definitions.js';
import { Prisma, type Db } from './db.js';

/**
 * Removes at most `limit` notifications in `status` (an outcome) that were created and completed before
 * `before`; returns how many. Read oldest first from the (status, created_at, id) index; rows a writer
 * holds are skipped (SKIP LOCKED), left to the next batch or run, instead of waited for.
 */
export async function removeEndedNotifications(
  db: Db,
  status: NotificationOutcome,
  before: Date,
  limit: number,
): Promise<number> {
  const cutoff = Prisma.sql`${before.toISOString()}::timestamptz AT TIME ZONE 'UTC'`;
  const [{ removed }] = await db.$queryRaw<[{ removed: number }]>`
    WITH ended AS (
      SELECT id FROM notifications
      WHERE status = ${status}::"NotificationStatus" AND created_at < ${cutoff}
        AND completed_at IS NOT NULL AND completed_at < ${cutoff}
      ORDER BY created_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), webhook_records AS (
      DELETE FROM webhook_deliveries WHERE notification_id IN (SELECT id FROM ended)
    ), removed AS (
      DELETE FROM notifications WHERE id IN (SELECT id FROM ended) RETURNING 1
    )
    SELECT count(*)::int AS removed FROM removed`;
  return removed;
}

/**
 * Removes at most `limit` early receipts (src/store/delivery-receipts.ts) received before `before`, oldest
 * first; returns how many. One still kept that long will not meet its send: the message was not Herald's,
 * or its send was never recorded. A row the send's record is applying is skipped, not waited for.
 */
export async function removeExpiredEarlyReceipts(db: Db, before: Date, limit: number): Promise<number> {
  const [{ removed }] = await db.$queryRaw<[{ removed: number }]>`
    WITH expired AS (
      SELECT channel, provider_message_id FROM early_receipts
      WHERE received_at < ${before.toISOString()}::timestamptz AT TIME ZONE 'UTC'
      ORDER BY received_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), removed AS (
      DELETE FROM early_receipts e USING expired x
      WHERE e.channel = x.channel AND e.provider_message_id = x.provider_message_id
      RETURNING 1
    )
    SELECT count(*)::int AS removed FROM removed`;
  return removed;
}
