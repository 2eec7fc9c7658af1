// The API: POST /v1/notifications at a fixed concurrency against `client.workflow.start` of the same
// workflow, with the same options, at the same concurrency. Both start into a namespace no worker polls,
// so nothing runs afterwards and only accepting is measured. Rounds alternate, so drift on a busy
// machine falls on both sides. Each side also reports what a notification cost the Temporal server and
// PostgreSQL, and the history it left (bench/per-notification.ts).
import { randomUUID } from 'node:crypto';
import { Client, type Connection } from '@temporalio/client';
import {
  NOTIFICATIONS_QUEUE,
  SEARCH_ATTRIBUTES,
  type NotificationInput,
} from '../../src/workflows/definitions.js';
import { startHeraldProcesses } from '../herald.js';
import { benchClient, perSecond, runConcurrent, summarize, type LatencySummary } from '../load.js';
import { cpuSeconds, treeCpuSeconds } from '../../tools/local-stack/processes.js';
import { historyCost, spreadSample, type HistoryCost } from '../per-notification.js';
import { showProgress } from '../progress.js';
import { ACCEPT_NAMESPACE, BENCH_API_KEY, type BenchStack, type HeraldBuild } from '../stack.js';
import { CHANNELS, serverProcesses } from './e2e.js';

export interface AcceptSide {
  requests: number;
  perSecond: number;
  latency: LatencySummary;
  /** CPU milliseconds per request of the process that did the work (the API; the benchmark for direct). */
  cpuMsPerRequest: number;
  /** CPU milliseconds per request of the servers behind it: `temporal-server`, `postgres` (embedded only). */
  serverCpuMsPerRequest?: Record<string, number>;
  /** The histories its workflows left (started, never run: nothing polls the namespace). */
  history?: HistoryCost;
}

export interface ApiResult {
  /** Which Herald's API: `current`, or `baseline` (--baseline). */
  build: string;
  concurrency: number;
  api: AcceptSide;
  direct: AcceptSide;
  startupMs: number;
}

const WARM_UP = 50;

export async function runApi(
  stack: BenchStack,
  connection: Connection,
  options: {
    notifications: number;
    concurrency: number;
    profileDir?: string;
    /** Names the API's log and profile (`<label>-api`); `accept` unless given. */
    label?: string;
    /** Which Herald's API: the current checkout unless given. */
    build?: HeraldBuild;
  },
): Promise<ApiResult> {
  const n = options.notifications;
  const build = options.build ?? stack.current;
  const recipients = Math.min(n, 1000);
  await build.ensureRecipients(recipients);
  const herald = await startHeraldProcesses(stack, {
    label: options.label ?? 'accept',
    workers: 0,
    api: true,
    profileDir: options.profileDir,
    env: { TEMPORAL_NAMESPACE: ACCEPT_NAMESPACE },
    build,
  });
  const apiPid = herald.api!.pid;
  const api = benchClient(herald.apiUrl, BENCH_API_KEY);
  const client = new Client({ connection, namespace: ACCEPT_NAMESPACE });
  const category = `bench-accept-${Date.now().toString(36)}`;
  const servers = serverProcesses(stack);
  const serverCpuMs = () => servers.map((w) => (w.tree ? treeCpuSeconds(w.pid) : cpuSeconds(w.pid)) * 1000);
  const newSide = () => ({
    latencies: [] as number[],
    ms: 0,
    cpu: 0,
    count: 0,
    serverCpu: servers.map(() => 0),
    workflowIds: [] as string[],
  });
  const sides = { api: newSide(), direct: newSide() };

  const viaApi = async (i: number) => {
    // A HeraldProblem for anything but 202.
    const { id } = await api.notifications.send({
      userId: `bench-${i % recipients}`,
      category,
      channels: CHANNELS,
      title: `Benchmark ${i}`,
      body: 'Your benchmark notification, on email, push and Telegram.',
    });
    if (i < n) sides.api.workflowIds.push(`notification-${id}`);
  };
  // What the API asks of Temporal for a notification (src/api/notifications.ts), minus the database.
  const direct = async (i: number) => {
    const notificationId = randomUUID();
    const input: NotificationInput = { notificationId, userId: randomUUID(), category, channels: CHANNELS };
    await client.workflow.start('notificationWorkflow', {
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: `notification-${notificationId}`,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.NotificationId, value: notificationId },
        { key: SEARCH_ATTRIBUTES.UserId, value: input.userId },
        { key: SEARCH_ATTRIBUTES.Category, value: category },
        { key: SEARCH_ATTRIBUTES.DeliveryStatus, value: 'accepted' },
      ],
      memo: { requestId: `bench-${i}`, summary: `${category} notification for user ${input.userId}` },
    });
    if (i < n) sides.direct.workflowIds.push(`notification-${notificationId}`);
  };
  // CPU milliseconds of the process doing the work: the API process, or this one for direct starts.
  const cpuMs = (side: 'api' | 'direct') => {
    if (side === 'api') return cpuSeconds(apiPid) * 1000;
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  const measure = async (side: 'api' | 'direct', count: number, first: number) => {
    const work = side === 'api' ? viaApi : direct;
    const record = sides[side];
    const cpuBefore = cpuMs(side);
    const serversBefore = serverCpuMs();
    const began = performance.now();
    await runConcurrent(
      count,
      options.concurrency,
      async (i) => {
        const t0 = performance.now();
        await work(i);
        record.latencies.push(performance.now() - t0);
        record.count += 1;
      },
      first,
    );
    record.ms += performance.now() - began;
    record.cpu += cpuMs(side) - cpuBefore;
    serverCpuMs().forEach((ms, k) => (record.serverCpu[k]! += ms - serversBefore[k]!));
  };

  const stopProgress = showProgress(
    options.label ?? 'api',
    () => `api ${sides.api.count}/${n} · direct ${sides.direct.count}/${n}`,
  );
  try {
    await runConcurrent(WARM_UP, options.concurrency, viaApi, n * 2);
    await runConcurrent(WARM_UP, options.concurrency, direct, n * 2);
    const half = Math.floor(n / 2);
    await measure('direct', half, 0);
    await measure('api', half, 0);
    await measure('api', n - half, half);
    await measure('direct', n - half, half);
  } finally {
    stopProgress();
    await herald.stop();
  }
  const perRequest = (ms: number, count: number) => Math.round((ms / Math.max(1, count)) * 100) / 100;
  const summary = async (name: keyof typeof sides): Promise<AcceptSide> => ({
    requests: sides[name].count,
    perSecond: perSecond(sides[name].count, sides[name].ms),
    latency: summarize(sides[name].latencies),
    cpuMsPerRequest: perRequest(sides[name].cpu, sides[name].count),
    serverCpuMsPerRequest: Object.fromEntries(
      servers.map((w, k) => [w.name, perRequest(sides[name].serverCpu[k]!, sides[name].count)]),
    ),
    history: await historyCost(client, spreadSample(sides[name].workflowIds)),
  });
  return {
    build: build.name,
    concurrency: options.concurrency,
    api: await summary('api'),
    direct: await summary('direct'),
    startupMs: Math.round(herald.api!.startupMs),
  };
}
