// A million notifications (and a delivery each) in a database of their own, so the suite's shared
// database stays small. Loaded the fast way: the two tables' indexes and keys are taken off, the rows go
// in with one INSERT ... SELECT each, and every index and key is put back from its own definition, as the
// migrations made it.
import type { Db } from '../../src/store/db.js';

export const NOTIFICATIONS = 1_000_000;
export const USERS = 1_000;
/** The API key whose notifications a send-scoped listing reads: 1 in 100. */
export const SEND_KEY = 'key-send';

/**
 * Who gets what, by row number i: user i % 1000 receives it; 1 in 100 comes from SEND_KEY, 1 in 10 from
 * the bot (sent by user (i / 10) % 100, to someone else), the rest from another key; categories billing,
 * orders and news, and 1 in 1000 "security"; 1 in 50 failed. Two notifications share each second, so
 * pages meet ties on created_at that the id breaks.
 */
const LOAD = [
  `INSERT INTO users (id, external_id, updated_at)
   SELECT gen_random_uuid(), 'listing-' || n, now() FROM generate_series(0, ${USERS - 1}) n`,
  `CREATE TEMPORARY TABLE numbered_users ON COMMIT DROP AS
   SELECT id, substring(external_id FROM 9)::int AS n FROM users`,
  `INSERT INTO notifications (id, user_id, category, channels, status, workflow_id, source, data,
     created_at, updated_at)
   SELECT gen_random_uuid(), recipient.id,
     CASE WHEN i % 1000 = 7 THEN 'security' ELSE (ARRAY['billing', 'orders', 'news'])[1 + i % 3] END,
     ARRAY['email']::"Channel"[],
     (CASE WHEN i % 50 = 3 THEN 'failed' ELSE 'sent' END)::"NotificationStatus",
     'listing-' || i,
     CASE WHEN i % 100 = 1 THEN '${SEND_KEY}' WHEN i % 10 = 5 THEN 'bot' ELSE 'key-other' END,
     CASE WHEN i % 10 = 5 THEN jsonb_build_object('sentBy', sender.id) ELSE '{}' END,
     timestamp '2026-01-01' + (i / 2) * interval '1 second', now()
   FROM generate_series(1, ${NOTIFICATIONS}) i
   JOIN numbered_users recipient ON recipient.n = i % ${USERS}
   JOIN numbered_users sender ON sender.n = (i / 10) % 100`,
  `INSERT INTO deliveries (id, notification_id, channel, status, attempts, sent_at, created_at, updated_at)
   SELECT gen_random_uuid(), id, 'email', 'sent', 1, created_at, created_at, created_at FROM notifications`,
];

/** The statements that take the tables' indexes and keys off, and those that put them back. */
async function takeApart(db: Db, tables: string[]): Promise<{ drop: string[]; restore: string[] }> {
  const owned = `(${tables.map((t) => `'${t}'::regclass`).join(', ')})`;
  // Foreign keys first off and last on (also those of other tables pointing here); then the keys.
  const constraints = await db.$queryRawUnsafe<{ drop: string; restore: string }[]>(
    `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
         AS restore
     FROM pg_constraint
     WHERE contype IN ('p', 'u', 'f') AND (conrelid IN ${owned} OR confrelid IN ${owned})
     ORDER BY contype = 'f' DESC, conname`,
  );
  const indexes = await db.$queryRawUnsafe<{ drop: string; restore: string }[]>(
    `SELECT format('DROP INDEX %s', indexrelid::regclass) AS drop, pg_get_indexdef(indexrelid) AS restore
     FROM pg_index
     WHERE indrelid IN ${owned} AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)
     ORDER BY indexrelid::regclass::text`,
  );
  return {
    drop: [...constraints, ...indexes].map((s) => s.drop),
    restore: [...indexes, ...[...constraints].reverse()].map((s) => s.restore),
  };
}

/** Index definitions of a table, to check that the load put back what the migrations made. */
export async function indexDefinitions(db: Db, table: string): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ def: string }[]>(
    `SELECT indexdef AS def FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
    table,
  );
  return rows.map((r) => r.def);
}

/** Fills an empty, migrated database, then ANALYZE. */
export async function loadMillionNotifications(db: Db): Promise<void> {
  const { drop, restore } = await takeApart(db, ['notifications', 'deliveries']);
  // One transaction: one connection for the temporary table, and nothing half done if a step fails.
  await db.$transaction(
    async (tx) => {
      for (const statement of drop) await tx.$executeRawUnsafe(statement);
      for (const statement of LOAD) await tx.$executeRawUnsafe(statement);
      for (const statement of restore) await tx.$executeRawUnsafe(statement);
    },
    { timeout: 300_000 },
  );
  await db.$executeRawUnsafe('ANALYZE users, notifications, deliveries');
}
