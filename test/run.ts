// `npm test`: starts the real parts the suite shares — a fresh PostgreSQL database and a Temporal dev
// server from the installed CLI, both on free ports — runs every test file with node's test runner,
// and stops everything it started, whatever the outcome.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDeploy } from '../src/lib/local/migrate.js';
import { projectRoot } from '../src/lib/local/paths.js';
import { dropDatabase, ensureDatabase, startEmbeddedPostgres } from '../src/lib/local/postgres.js';
import { freePort } from '../src/lib/local/ports.js';
import { startTemporalServer } from '../src/lib/local/temporal-server.js';

const cleanups: (() => Promise<void>)[] = [];
const log = (message: string) => console.log(`[test-run] ${message}`);

function testFiles(args: string[]): string[] {
  if (args.length > 0) return args;
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) found.push(path.relative(projectRoot, full));
    }
  };
  walk(path.join(projectRoot, 'test'));
  return found.sort();
}

async function main(): Promise<number> {
  // PostgreSQL: a fresh database on TEST_DATABASE_URL's (or DATABASE_URL's) server, else an embedded one.
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  const dbName = `herald_test_${Date.now()}_${process.pid}`;
  let databaseUrl: string;
  if (serverUrl) {
    await ensureDatabase(serverUrl, dbName);
    cleanups.push(() => dropDatabase(serverUrl, dbName));
    const url = new URL(serverUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    log(`database ${dbName} on ${url.host}`);
  } else {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-test-pg-'));
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), port: await freePort() });
    cleanups.push(async () => {
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await ensureDatabase(pg.serverUrl, dbName);
    databaseUrl = pg.databaseUrl(dbName);
    log(`embedded PostgreSQL, database ${dbName}`);
  }
  await migrateDeploy(databaseUrl);

  const temporal = await startTemporalServer({ port: await freePort() });
  cleanups.push(() => temporal.stop());
  log(`Temporal dev server at ${temporal.address}`);

  const files = testFiles(process.argv.slice(2));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
    {
      cwd: projectRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        HERALD_TEST_DATABASE_URL: databaseUrl,
        HERALD_TEST_TEMPORAL_ADDRESS: temporal.address,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      },
    },
  );
  const stop = () => child.kill('SIGINT');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error('[test-run] could not start the test stack:', error);
} finally {
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((e) => console.error('[test-run] cleanup:', e));
}
process.exit(code);
