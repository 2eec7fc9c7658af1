import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDeploy } from './migrate.js';
import { dropDatabase, ensureDatabase, startEmbeddedPostgres } from './postgres.js';
import { freePort } from './ports.js';

export interface FreshDatabase {
  databaseUrl: string;
  /** Where it lives, for a log line: the server's host, or "embedded PostgreSQL". */
  where: string;
  /** The embedded server's postmaster (its backends are its children); undefined for another server. */
  serverPid?: number;
  /** Drops the database, or stops the embedded server and removes its data. */
  remove(): Promise<void>;
}

/**
 * A new, migrated database named `<prefix>_<time>_<pid>`: on the server of `serverUrl` when given,
 * else in an embedded PostgreSQL in a temporary folder (the tests and the benchmark).
 */
export async function createFreshDatabase(prefix: string, serverUrl?: string): Promise<FreshDatabase> {
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  let fresh: FreshDatabase;
  if (serverUrl) {
    await ensureDatabase(serverUrl, name);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    fresh = {
      databaseUrl: url.toString(),
      where: `database ${name} on ${url.host}`,
      remove: () => dropDatabase(serverUrl, name),
    };
  } else {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-pg-`));
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: await freePort() });
    await ensureDatabase(pg.serverUrl, name);
    fresh = {
      databaseUrl: pg.databaseUrl(name),
      where: `embedded PostgreSQL, database ${name}`,
      serverPid: Number(readFileSync(path.join(dataDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]),
      async remove() {
        await pg.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  try {
    await migrateDeploy(fresh.databaseUrl);
  } catch (error) {
    await fresh.remove().catch(() => undefined);
    throw error;
  }
  return fresh;
}
