// End to end: N notifications through the API, each on email + push + telegram, received at the sinks,
// and what each cost (Temporal history, CPU per process, PostgreSQL rows and WAL: bench/per-notification.ts).
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { workflowIdFor } from '../../src/workflows/definitions.js';
import { startHeraldProcesses } from '../herald.js';
import { benchClient, perSecond, runConcurrent, sleep, summarize, type LatencySummary } from '../load.js';
import { startMonitor, type MemoryUse, type Watched } from '../monitor.js';
import {
  cpuMsPerNotification,
  historyCost,
  spreadSample,
  databaseMark,
  storageCost,
  type PerNotificationCost,
} from '../per-notification.js';
import { showProgress } from '../progress.js';
import { clearSinks, drainReceipts, type BenchChannel } from '../receipts.js';
import { BENCH_API_KEY, type BenchStack, type HeraldBuild } from '../stack.js';
import { closedWorkflows, untilClosed } from '../visibility.js';

export const CHANNELS: BenchChannel[] = ['email', 'push', 'telegram'];

export interface EndToEndResult {
  label: string;
  /** Which Herald ran: `current`, or `baseline` (--baseline). */
  build: string;
  /** Environment this run set beyond the stack's (a tuning variant). */
  env?: Record<string, string>;
  notifications: number;
  workerProcesses: number;
  /** First POST to the last workflow's close. */
  durationMs: number;
  notificationsPerSecond: number;
  /** Receipts at the sinks per second, first POST to last receipt. */
  deliveriesPerSecond: number;
  /** Emails received per second, for the channel limit's ratio. */
  emailsPerSecond: number;
  acceptPerSecond: number;
  /** The API's 202 to receipt at the sink, every delivery, then per channel. */
  latency: LatencySummary;
  latencyByChannel: Record<BenchChannel, LatencySummary>;
  /** Workflow start to close, from visibility. */
  workflowDuration: LatencySummary;
  /** Notification rows by status at the end (all `sent` when nothing went wrong). */
  outcomes: Record<string, number>;
  /** Activity attempts that failed and were retried by Temporal (the workers' "Activity failed" lines). */
  failedActivityAttempts: number;
  cpuSeconds: Record<string, number>;
  /** Temporal history, CPU per process and PostgreSQL per notification (absent in older reports). */
  perNotification?: PerNotificationCost;
  memory: Record<string, MemoryUse>;
  startupMs: Record<string, number>;
}

export interface EndToEndOptions {
  label: string;
  notifications: number;
  concurrency: number;
  workers: number;
  profileDir?: string;
  /** Resident memory sampling interval; a soak samples less often. */
  sampleMs?: number;
  /** Posts at this pace instead of as fast as the API accepts (the soak: a steady state, not a backlog). */
  ratePerSecond?: number;
  /** Environment for Herald's processes beyond the stack's: a tuning variant. */
  env?: Record<string, string>;
  /** Which Herald runs: the current checkout unless given (the baseline, with --baseline). */
  build?: HeraldBuild;
}

/** Processes other than Herald's that share the machine: their CPU time belongs in the picture. */
export function serverProcesses(stack: BenchStack): Watched[] {
  const servers: Watched[] = [{ name: 'temporal-server', pid: stack.temporal.process.pid!, tree: true }];
  if (stack.database.serverPid) servers.push({ name: 'postgres', pid: stack.database.serverPid, tree: true });
  return servers;
}

export async function runEndToEnd(
  stack: BenchStack,
  client: Client,
  options: EndToEndOptions,
): Promise<EndToEndResult> {
  const n = options.notifications;
  const category = `bench-${options.label}-${Date.now().toString(36)}`;
  const build = options.build ?? stack.current;
  await build.ensureRecipients(n);
  clearSinks(stack.sinks);
  const herald = await startHeraldProcesses(stack, {
    label: options.label,
    workers: options.workers,
    api: true,
    profileDir: options.profileDir,
    env: options.env,
    build,
  });
  const monitor = startMonitor(
    [...herald.all.map((p) => ({ name: p.name, pid: p.pid, memory: true })), ...serverProcesses(stack)],
    options.sampleMs,
  );
  const api = benchClient(herald.apiUrl, BENCH_API_KEY);
  const acceptedAt = new Float64Array(n);
  const notificationIds: string[] = [];
  const atStart = await databaseMark(build.pool);
  const receiptsAt: Record<BenchChannel, Float64Array> = {
    email: new Float64Array(n),
    push: new Float64Array(n),
    telegram: new Float64Array(n),
  };
  let posted = 0;
  let received = 0;
  let closed = 0;
  let lastReceiptAt = 0;
  let lastEmailAt = 0;
  const collect = () => {
    for (const r of drainReceipts(stack.sinks)) {
      if (r.index < 0 || r.index >= n || receiptsAt[r.channel][r.index]) continue;
      receiptsAt[r.channel][r.index] = r.at;
      received += 1;
      lastReceiptAt = Math.max(lastReceiptAt, r.at);
      if (r.channel === 'email') lastEmailAt = Math.max(lastEmailAt, r.at);
    }
  };
  const collector = setInterval(collect, 200);
  const stopProgress = showProgress(
    options.label,
    () => `accepted ${posted}/${n} · delivered ${received}/${n * 3} · closed ${closed}/${n}`,
  );

  const began = Date.now();
  let postsDoneAt = 0;
  try {
    const posting = runConcurrent(n, options.concurrency, async (i) => {
      if (options.ratePerSecond) await sleep(began + (i * 1000) / options.ratePerSecond - Date.now());
      const { id } = await api.notifications.send({
        userId: `bench-${i}`,
        category,
        channels: CHANNELS,
        title: `Benchmark ${i}`,
        body: 'Your benchmark notification, on email, push and Telegram.',
      });
      acceptedAt[i] = Date.now();
      notificationIds[i] = id;
      posted += 1;
    }).then(() => (postsDoneAt = Date.now()));
    await posting;
    await untilClosed(client, category, n, (c) => (closed = c), Math.max(300_000, n * 1000));
    while (received < n * 3 && Date.now() - began < Math.max(300_000, n * 1000)) {
      await sleep(200);
      collect();
    }
  } finally {
    clearInterval(collector);
    stopProgress();
  }
  collect();
  const cpu = monitor.cpu();
  await sleep(3000); // let the processes settle before the "after" memory sample
  const memory = monitor.finish();
  const visibility = await closedWorkflows(client, category);
  const { rows } = await build.pool.query<{ status: string; count: string }>(
    'SELECT status, count(*) FROM notifications WHERE category = $1 GROUP BY status',
    [category],
  );
  await herald.stop();
  const perNotification: PerNotificationCost = {
    notifications: n,
    history: await historyCost(client, spreadSample(notificationIds.filter(Boolean)).map(workflowIdFor)),
    cpuMs: cpuMsPerNotification(cpu, n),
    storage: await storageCost(build.pool, { category, notifications: n, atStart }),
  };
  const failedActivityAttempts = herald.workers
    .map((w) => readFileSync(w.logFile, 'utf8').split('"msg":"Activity failed"').length - 1)
    .reduce((a, b) => a + b, 0);

  const latencies = (channel: BenchChannel) =>
    Array.from(receiptsAt[channel], (at, i) => at - acceptedAt[i]!).filter(
      (_, i) => receiptsAt[channel][i]! > 0,
    );
  const durationMs = visibility.lastCloseAt - began;
  return {
    label: options.label,
    build: build.name,
    env: options.env,
    notifications: n,
    workerProcesses: options.workers,
    durationMs,
    notificationsPerSecond: perSecond(n, durationMs),
    deliveriesPerSecond: perSecond(received, lastReceiptAt - began),
    emailsPerSecond: perSecond(n, lastEmailAt - began),
    acceptPerSecond: perSecond(n, postsDoneAt - began),
    latency: summarize(CHANNELS.flatMap(latencies)),
    latencyByChannel: Object.fromEntries(CHANNELS.map((c) => [c, summarize(latencies(c))])) as Record<
      BenchChannel,
      LatencySummary
    >,
    workflowDuration: summarize(visibility.durationsMs),
    outcomes: Object.fromEntries(rows.map((r) => [r.status, Number(r.count)])),
    failedActivityAttempts,
    cpuSeconds: cpu,
    perNotification,
    memory,
    startupMs: Object.fromEntries(herald.all.map((p) => [p.name, Math.round(p.startupMs)])),
  };
}
