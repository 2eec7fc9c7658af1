// `npm test`: starts the real parts the suite shares — a fresh PostgreSQL database and a Temporal dev
// server from the installed CLI, both on free ports — runs every test file (test/**/*.test.ts and
// clients/*/test/**/*.test.ts) with node's test runner,
// and stops everything it started, whatever the outcome.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createFreshDatabase } from '../tools/local-stack/database.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer } from '../tools/local-stack/temporal-server.js';

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
  // Packages of their own keep their tests beside them (clients/typescript/test): part of the suite too.
  for (const client of readdirSync(path.join(projectRoot, 'clients'), { withFileTypes: true }))
    if (client.isDirectory() && existsSync(path.join(projectRoot, 'clients', client.name, 'test')))
      walk(path.join(projectRoot, 'clients', client.name, 'test'));
  return found.sort();
}

async function main(): Promise<number> {
  // PostgreSQL: a fresh database on TEST_DATABASE_URL's (or DATABASE_URL's) server, else an embedded one.
  const database = await createFreshDatabase(
    'herald_test',
    process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL,
  );
  cleanups.push(() => database.remove());
  const { databaseUrl } = database;
  log(database.where);

  // With its Web UI (the browser test, test/operators-ui.test.ts, opens it) and its metrics (the
  // dashboard's test, test/grafana-dashboard.test.ts, scrapes them).
  const temporal = await startTemporalServer({
    port: await freePort(),
    uiPort: await freePort(),
    metricsPort: await freePort(),
  });
  cleanups.push(() => temporal.stop());
  log(`Temporal dev server at ${temporal.address}, UI at ${temporal.uiUrl}`);

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
        HERALD_TEST_TEMPORAL_UI: temporal.uiUrl,
        HERALD_TEST_TEMPORAL_METRICS: temporal.metricsUrl,
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
