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
