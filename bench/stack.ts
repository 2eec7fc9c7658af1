// The parts every benchmark part shares: a fresh migrated PostgreSQL database, a Temporal dev server,
// the provider sinks (SMTP, Web Push over HTTPS, Telegram Bot API, SMS), a prebuilt workflow bundle, and
// the seeded recipients. With a baseline (--baseline), a second Herald build beside the current one: its
// own checkout, database and bundle on the same server and sinks. Herald's own processes are started
// per part (bench/herald.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createFreshDatabase, type FreshDatabase } from '../tools/local-stack/database.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer, type TemporalServer } from '../tools/local-stack/temporal-server.js';
import { writeWorkflowBundle } from '../src/workers/create-workers.js';
import { createBrowserSubscription } from '../tools/fakes/push-endpoint.js';
import { heraldProcessEnv, startSinks, stopSinks, type Sinks } from '../tools/fakes/sinks.js';
import { describeCheckout, prepareBaseline } from './baseline.js';
import { startHeraldProcesses } from './herald.js';
import { ConflictProblem } from '@herald/client';
import { benchClient, runConcurrent } from './load.js';

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';
/** A namespace no worker polls: the API part measures accepting alone, with nothing run afterwards. */
export const ACCEPT_NAMESPACE = 'bench-accept';
const TELEGRAM_TOKEN = '123456:bench-token';

/** One version of Herald: the checkout whose src/ runs, with its own database and workflow bundle. */
export interface HeraldBuild {
  /** `current`, or `baseline`. */
  name: string;
  /** For the report: the commit (and ref) it runs. */
  description: string;
  /** Folder holding its src/: the project root, or the baseline's worktree. */
  root: string;
  /** Its own database, migrated with its own migrations. */
  pool: pg.Pool;
  /** Its processes' environment (worker and API), before per-process additions. */
  env: Record<string, string>;
  /** Recipients bench-0 … bench-(n-1) exist: email, Telegram chat and one push subscription each. */
  ensureRecipients(n: number): Promise<void>;
}

export interface BenchStack {
  database: FreshDatabase;
  temporal: TemporalServer;
  sinks: Sinks;
  /** The current checkout's Herald. */
  current: HeraldBuild;
  /** Herald at --baseline <ref>, when given. */
  baseline?: HeraldBuild & { ref: string; commit: string; notes: string[] };
  /** Scratch folder of this run: logs, profiles, bundles. */
  tmpDir: string;
  /** The current build's environment (stack.current.env), which the floor shares. */
  heraldEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** Each recipient's addresses name its index, so a receipt at a sink names its notification. */
export const recipientOf = {
  email: (i: number) => `u${i}@bench.test`,
  telegram: (i: number) => String(1_000_000 + i),
  pushPath: (i: number) => `/push/u${i}`,
};

/** Requests in flight while seeding recipients (not measured). */
const SEED_CONCURRENCY = 16;

/** Creates recipients bench-<from> … bench-<to - 1> with POST /v1/users and a push subscription each. */
async function seedRecipients(
  apiUrl: string,
  from: number,
  to: number,
  pushOrigin: string,
  keys: { p256dh: string; auth: string },
): Promise<void> {
  const herald = benchClient(apiUrl, BENCH_API_KEY);
  await runConcurrent(
    to - from,
    SEED_CONCURRENCY,
    async (i) => {
      const user = {
        externalId: `bench-${i}`,
        email: recipientOf.email(i),
        telegramChatId: recipientOf.telegram(i),
      };
      // 409: there already, from an earlier seeding that stopped part way.
      await herald.users.create(user).catch((error: unknown) => {
        if (!(error instanceof ConflictProblem)) throw error;
      });
      const subscription = { endpoint: `${pushOrigin}${recipientOf.pushPath(i)}`, keys };
      await herald.users.addPushSubscription(`bench-${i}`, subscription);
    },
    from,
  );
}

export async function startBenchStack(
  tmpDir: string,
  log: (line: string) => void,
  options: { baselineRef?: string } = {},
): Promise<BenchStack> {
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

    // Built once, as `npm run build` does for the image; workers load it through WORKFLOW_BUNDLE_PATH.
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

    const subscription = createBrowserSubscription(sinks.push.origin).subscription;
    const build = (b: Omit<HeraldBuild, 'pool' | 'ensureRecipients'> & { databaseUrl: string }) => {
      const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 4 });
      stops.push(() => pool.end());
      let seeded = 0;
      const herald: HeraldBuild = {
        name: b.name,
        description: b.description,
        root: b.root,
        env: b.env,
        pool,
        // Through Herald's own API, so that seeding holds whatever its schema: an API process of this
        // build, started for the purpose and stopped before anything is measured.
        async ensureRecipients(n) {
          if (n <= seeded) return;
          const began = Date.now();
          const api = await startHeraldProcesses(
            { tmpDir, current: herald },
            { label: `${b.name}-seed-${n}`, workers: 0, api: true },
          );
          try {
            await seedRecipients(api.apiUrl, seeded, n, sinks.push.origin, subscription.keys);
          } finally {
            await api.stop();
          }
          log(
            `${b.name}: recipients ${seeded} to ${n - 1} created through its API in ${Date.now() - began} ms`,
          );
          seeded = n;
        },
      };
      return herald;
    };

    const current = build({
      name: 'current',
      description: await describeCheckout(),
      root: projectRoot,
      databaseUrl: database.databaseUrl,
      env: heraldEnv,
    });
    let baseline: BenchStack['baseline'];
    if (options.baselineRef) {
      const checkout = await prepareBaseline(
        options.baselineRef,
        path.join(tmpDir, 'baseline'),
        database.databaseUrl,
        log,
      );
      stops.push(() => checkout.remove());
      const herald = build({
        name: 'baseline',
        description: `${checkout.ref} (${checkout.commit.slice(0, 7)})`,
        root: checkout.root,
        databaseUrl: checkout.databaseUrl,
        env: {
          ...heraldEnv,
          DATABASE_URL: checkout.databaseUrl,
          WORKFLOW_BUNDLE_PATH: checkout.bundlePath,
          // tsx reads the tsconfig of its working directory, the project's; this is the baseline's own.
          TSX_TSCONFIG_PATH: path.join(checkout.root, 'tsconfig.json'),
        },
      });
      baseline = { ...herald, ref: checkout.ref, commit: checkout.commit, notes: checkout.notes };
      for (const note of checkout.notes) log(`baseline: ${note}`);
    }

    return { database, temporal, sinks, current, baseline, tmpDir, heraldEnv, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
