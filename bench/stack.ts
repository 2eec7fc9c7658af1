// The parts every benchmark part shares: a fresh migrated PostgreSQL database, a Temporal dev server,
// the provider sinks (SMTP, Web Push over HTTPS, Telegram Bot API, SMS), a prebuilt workflow bundle, and
// the seeded recipients. Herald's own processes are started per part (bench/herald.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createFreshDatabase, type FreshDatabase } from '../tools/local-stack/database.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer, type TemporalServer } from '../tools/local-stack/temporal-server.js';
import { writeWorkflowBundle } from '../src/workers/create-workers.js';
import { createBrowserSubscription } from '../tools/fakes/push-endpoint.js';
import { heraldProcessEnv, startSinks, stopSinks, type Sinks } from '../tools/fakes/sinks.js';

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';
/** A namespace no worker polls: the API part measures accepting alone, with nothing run afterwards. */
export const ACCEPT_NAMESPACE = 'bench-accept';
const TELEGRAM_TOKEN = '123456:bench-token';

export interface BenchStack {
  database: FreshDatabase;
  temporal: TemporalServer;
  sinks: Sinks;
  pool: pg.Pool;
  /** Scratch folder of this run: logs, profiles, bundles. */
  tmpDir: string;
  /** The environment of Herald's processes (worker and API), before per-process additions. */
  heraldEnv: Record<string, string>;
  /** Recipients bench-0 … bench-(n-1) exist: email, Telegram chat and one push subscription each. */
  ensureRecipients(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** Each recipient's addresses name its index, so a receipt at a sink names its notification. */
export const recipientOf = {
  email: (i: number) => `u${i}@bench.test`,
  telegram: (i: number) => String(1_000_000 + i),
  pushPath: (i: number) => `/push/u${i}`,
};

export async function startBenchStack(tmpDir: string, log: (line: string) => void): Promise<BenchStack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    const database = await createFreshDatabase('herald_bench', process.env.DATABASE_URL);
    stops.push(() => database.remove());
    log(database.where);
    const temporal = await startTemporalServer({
      port: await freePort(),
      extraArgs: ['--namespace', ACCEPT_NAMESPACE],
    });
    stops.push(() => temporal.stop());
    log(`Temporal dev server at ${temporal.address}`);

    const sinks = await startSinks(TELEGRAM_TOKEN);
    stops.push(() => stopSinks(sinks));
    const caFile = path.join(tmpDir, 'push-ca.pem');
    writeFileSync(caFile, sinks.push.ca);

    // Built once, as the Dockerfile does; workers load it through WORKFLOW_BUNDLE_PATH.
    const bundlePath = path.join(tmpDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundlePath);

    const heraldEnv = heraldProcessEnv({
      databaseUrl: database.databaseUrl,
      temporalAddress: temporal.address,
      apiKey: BENCH_API_KEY,
      mailFrom: 'Herald <herald@bench.test>',
      telegramToken: TELEGRAM_TOKEN,
      sinks,
      caFile,
      bundlePath,
    });

    const pool = new pg.Pool({ connectionString: database.databaseUrl, max: 4 });
    stops.push(() => pool.end());
    let seeded = 0;
    const subscription = createBrowserSubscription(sinks.push.origin).subscription;
    return {
      database,
      temporal,
      sinks,
      pool,
      tmpDir,
      heraldEnv,
      async ensureRecipients(n) {
        if (n <= seeded) return;
        await pool.query(
          `INSERT INTO users (id, external_id, email, telegram_chat_id, updated_at)
           SELECT gen_random_uuid(), 'bench-' || i, 'u' || i || '@bench.test', (1000000 + i)::text, now()
           FROM generate_series($1::int, $2::int) AS i`,
          [seeded, n - 1],
        );
        await pool.query(
          `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth)
           SELECT gen_random_uuid(), u.id, $3 || '/push/u' || i, $4, $5
           FROM generate_series($1::int, $2::int) AS i JOIN users u ON u.external_id = 'bench-' || i`,
          [seeded, n - 1, sinks.push.origin, subscription.keys.p256dh, subscription.keys.auth],
        );
        seeded = n;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
