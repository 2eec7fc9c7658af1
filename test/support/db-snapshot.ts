// Every Herald table as a row count and a digest of its rows: a refused request must leave it as it was.
import type { Db } from '../../src/store/db.js';

/** Row count and a digest of every row of every Herald table. */
export async function snapshotTables(db: Db): Promise<Record<string, string>> {
  const tables = await db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
     ORDER BY table_name`,
  );
  const state: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db.$queryRawUnsafe<{ rows: bigint; digest: string | null }[]>(
      `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest
       FROM "${name.replaceAll('"', '""')}" t`,
    );
    state[name] = `${row!.rows} rows, ${row!.digest ?? 'none'}`;
  }
  return state;
}
