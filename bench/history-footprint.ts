// `npx tsx bench/history-footprint.ts [--notifications N]`: what the delivery history takes on disk and
// how fast history retention removes it, on a fresh PostgreSQL (embedded, as the benchmark's). N
// notifications shaped as the benchmark's end-to-end ones (three deliveries, one attempt each, the same
// texts) are written with SQL, vacuumed, and measured with pg_total_relation_size over the known row
// counts; then aged past HISTORY_RETENTION and removed by the retention's own statement, 1,000 a batch.
// A small table overstates bytes per row (each index's first pages): docs/capacity.md uses this instead.
import { parseArgs } from 'node:util';
import { createFreshDatabase } from '../tools/local-stack/database.js';
import { createDb } from '../src/store/db.js';
import { removeEndedNotifications } from '../src/store/history-retention.js';

const { values } = parseArgs({ options: { notifications: { type: 'string', default: '100000' } } });
const n = Number(values.notifications);
const database = await createFreshDatabase('herald_footprint');
const db = createDb(database.databaseUrl, { max: 2 });
const TABLES = ['notifications', 'deliveries', 'delivery_attempts'] as const;
try {
  await db.$executeRawUnsafe(
    `INSERT INTO users (id, external_id, updated_at) SELECT gen_random_uuid(), 'bench-' || i, now()
     FROM generate_series(0, 999) AS i`,
  );
  const started = Date.now();
  // As the API and the workflow leave them: an idempotency key and request hash, a sent status, a
  // delivery per channel with the provider's id, an attempt each.
  await db.$executeRawUnsafe(
    `INSERT INTO notifications (id, user_id, idempotency_key, request_hash, category, title, body, channels,
       status, workflow_id, request_id, source, created_at, updated_at, completed_at)
     SELECT s.id, u.id, 'key-' || i, md5(i::text) || md5((i + 1)::text), 'bench-e2e', 'Benchmark ' || i,
       'Your benchmark notification, on email, push and Telegram.', '{email,push,telegram}', 'sent',
       'notification-' || s.id, gen_random_uuid()::text, 'env-0123abcd', now(), now(), now()
     FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, ${n}) AS i) AS s
     JOIN users u ON u.external_id = 'bench-' || (i % 1000)`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO deliveries (id, notification_id, channel, status, attempts, provider_message_id, sent_at,
       created_at, updated_at)
     SELECT gen_random_uuid(), n.id, c.channel::"Channel", 'sent', 1, c.provider_id || n.id, now(), now(), now()
     FROM notifications n CROSS JOIN (VALUES ('email', '<'), ('push', '1/1 subscriptions accepted '),
       ('telegram', '')) AS c(channel, provider_id)`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at, finished_at, outcome)
     SELECT gen_random_uuid(), d.id, 1, now(), now(), 'sent' FROM deliveries d`,
  );
  const writeSeconds = (Date.now() - started) / 1000;
  await db.$executeRawUnsafe('VACUUM ANALYZE notifications, deliveries, delivery_attempts');
  const sizes: Record<string, { rows: number; bytes: number; bytesPerRow: number }> = {};
  for (const table of TABLES) {
    const [row] = await db.$queryRawUnsafe<[{ bytes: bigint; rows: bigint }]>(
      `SELECT pg_total_relation_size('${table}') AS bytes, (SELECT count(*) FROM ${table}) AS rows`,
    );
    const rows = Number(row.rows);
    sizes[table] = { rows, bytes: Number(row.bytes), bytesPerRow: Math.round(Number(row.bytes) / rows) };
  }

  // Retention: everything ended long ago, removed the way the schedule's activity does it.
  await db.$executeRawUnsafe(
    `UPDATE notifications SET created_at = now() - interval '401 days', completed_at = now() - interval '401 days'`,
  );
  const before = new Date(Date.now() - 400 * 86_400_000);
  const removing = Date.now();
  let removed = 0;
  let batches = 0;
  for (;;) {
    const batch = await removeEndedNotifications(db, 'sent', before, 1000);
    removed += batch;
    batches++;
    if (batch < 1000) break;
  }
  const removeSeconds = (Date.now() - removing) / 1000;
  console.log(
    JSON.stringify(
      {
        command: `npx tsx bench/history-footprint.ts --notifications ${n}`,
        postgres: database.where,
        notifications: n,
        writeSeconds,
        sizes,
        bytesPerNotification: Object.values(sizes).reduce((a, s) => a + s.bytes, 0) / n,
        retention: {
          removed,
          batches,
          seconds: removeSeconds,
          notificationsPerSecond: Math.round(removed / removeSeconds),
          msPerBatch: Math.round((removeSeconds * 1000) / batches),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await db.$disconnect();
  await database.remove();
}
