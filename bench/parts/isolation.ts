// Isolation: do urgent notifications wait behind a campaign? High-priority notifications go through
// POST /v1/notifications at a steady pace, first on an idle stack, then while a large low-priority load
// runs through the same API, queues and worker. Measured: the API's 202 to the SMTP sink receiving each
// one, in both phases. The load comes from a function (bulk today), so a broadcast can take its place.
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { startHeraldProcesses } from '../herald.js';
import { sleep, summarize, type LatencySummary } from '../load.js';
import { log } from '../progress.js';
import { clearSinks, drainReceipts } from '../receipts.js';
import { BENCH_API_KEY, type BenchStack } from '../stack.js';
import type { Ratio } from '../report/report.js';

/** Where a low-priority load goes: the API, as a caller, and the recipients it may use. */
export interface LoadTarget {
  apiUrl: string;
  apiKey: string;
  /** Recipients' externalIds; a load may send each of them many notifications. */
  recipients: string[];
  notifications: number;
  category: string;
  /** Called as each part of the load is accepted, with how many it held. */
  onAccepted(count: number): void;
  /** Aborted when the measurement is over: the rest of the load is not sent. */
  signal: AbortSignal;
}

/** Sends a low-priority load through Herald, resolving once all of it is accepted. */
export type LowPriorityLoad = (target: LoadTarget) => Promise<void>;

/** How many recipients one bulk request takes (BULK_LIMIT in src/domain/schemas.ts). */
const BULK_RECIPIENTS = 1000;

/** The load as a campaign sends it today: bulk requests, each naming no priority (bulk's default is low). */
export const bulkLoad: LowPriorityLoad = async (target) => {
  const perRequest = Math.min(BULK_RECIPIENTS, target.recipients.length);
  for (let sent = 0; sent < target.notifications && !target.signal.aborted; sent += perRequest) {
    const recipients = target.recipients.slice(0, Math.min(perRequest, target.notifications - sent));
    const res = await fetch(`${target.apiUrl}/v1/notifications/bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        recipients,
        category: target.category,
        title: 'Campaign',
        body: 'A low-priority campaign message',
        channels: ['email'],
      }),
      signal: target.signal,
    });
    if (res.status !== 202) throw new Error(`bulk: ${res.status} ${await res.text()}`);
    target.onAccepted(((await res.json()) as { accepted: number }).accepted);
  }
};

export interface IsolationOptions {
  /** Low-priority notifications in the load. */
  load: number;
  /** High-priority notifications a second, in each phase. */
  ratePerSecond: number;
  /** How long each phase sends high-priority notifications. */
  windowSeconds: number;
  loadSource?: LowPriorityLoad;
}

/** Where an urgent notification's time went, from its workflow's history (event times, the server's clock). */
export interface StageWaits {
  /** Its workflow tasks' waits in the notifications queue (scheduled to started), summed per notification. */
  notificationsQueue: LatencySummary;
  /** Its email delivery's wait in the email queue (scheduled to started). */
  emailQueue: LatencySummary;
  /** Workflow started to the email activity scheduled: the workflow tasks and the local database steps. */
  toDelivery: LatencySummary;
  /** The email activity's run: started to completed. */
  delivery: LatencySummary;
}

export interface IsolationPartResult {
  ratePerSecond: number;
  windowSeconds: number;
  /** The API's 202 to the sink, high-priority notifications on an idle stack. */
  idle: LatencySummary;
  /** The same while the low-priority load runs. */
  underLoad: LatencySummary;
  /** The same notifications' stages, idle and under load. */
  stages: { idle: StageWaits; underLoad: StageWaits };
  load: {
    source: string;
    notifications: number;
    /** Recorded by the end of the window (bulk requests may still be running), and delivered by then. */
    acceptedInWindow: number;
    deliveredInWindow: number;
  };
}

const PROBE_CATEGORY = 'bench-isolation-urgent';
const LOAD_CATEGORY = 'bench-isolation-campaign';
const SETTLE_TIMEOUT_MS = 120_000;

/** The stage waits of one finished notification workflow, in milliseconds. */
async function stagesOf(client: Client, workflowId: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = new Map<number, number>();
  const waits = { notificationsQueue: 0, emailQueue: 0, toDelivery: 0, delivery: 0 };
  let workflowStarted = 0;
  for (const event of events) {
    const time = tsToMs(event.eventTime);
    at.set(Number(event.eventId), time);
    if (event.workflowExecutionStartedEventAttributes) workflowStarted = time;
    const taskStarted = event.workflowTaskStartedEventAttributes;
    if (taskStarted) waits.notificationsQueue += time - at.get(Number(taskStarted.scheduledEventId))!;
    // `email`, or its urgent twin for a high-priority notification.
    if (event.activityTaskScheduledEventAttributes?.taskQueue?.name?.startsWith('email'))
      waits.toDelivery = time - workflowStarted;
    const activityStarted = event.activityTaskStartedEventAttributes;
    if (activityStarted) waits.emailQueue = time - at.get(Number(activityStarted.scheduledEventId))!;
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) waits.delivery = time - at.get(Number(completed.startedEventId))!;
  }
  return waits;
}

async function stageWaits(client: Client, workflowIds: string[]): Promise<StageWaits> {
  const all = await Promise.all(workflowIds.map((id) => stagesOf(client, id)));
  const of = (key: keyof StageWaits) => summarize(all.map((w) => w[key]));
  return {
    notificationsQueue: of('notificationsQueue'),
    emailQueue: of('emailQueue'),
    toDelivery: of('toDelivery'),
    delivery: of('delivery'),
  };
}

export async function runIsolation(
  stack: BenchStack,
  client: Client,
  options: IsolationOptions,
): Promise<IsolationPartResult> {
  const probes = Math.round(options.ratePerSecond * options.windowSeconds);
  const loadSource = options.loadSource ?? bulkLoad;
  const loadRecipients = Math.min(BULK_RECIPIENTS, options.load);
  // Recipients 0 … 2·probes − 1 get one high-priority notification each (a receipt names its probe); the
  // load goes to the ones after them.
  await stack.current.ensureRecipients(2 * probes + loadRecipients);
  clearSinks(stack.sinks);
  const herald = await startHeraldProcesses(stack, { label: 'isolation', workers: 1, api: true });

  const acceptedAt = new Map<number, number>();
  const workflowIds = new Map<number, string>();
  const receivedAt = new Map<number, number>();
  let loadDelivered = 0;
  const collector = setInterval(() => {
    for (const r of drainReceipts(stack.sinks)) {
      if (r.channel !== 'email') continue;
      if (r.index >= 2 * probes) loadDelivered += 1;
      else if (!receivedAt.has(r.index)) receivedAt.set(r.index, r.at);
    }
  }, 100);

  /** Sends probes first … first + probes − 1 at the pace, and waits until the sink has every one. */
  const sendProbes = async (first: number): Promise<LatencySummary> => {
    const sends: Promise<void>[] = [];
    const began = performance.now();
    for (let k = 0; k < probes; k++) {
      const wait = began + (k * 1000) / options.ratePerSecond - performance.now();
      if (wait > 0) await sleep(wait);
      const index = first + k;
      sends.push(
        (async () => {
          const res = await fetch(`${herald.apiUrl}/v1/notifications`, {
            method: 'POST',
            headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              userId: `bench-${index}`,
              category: PROBE_CATEGORY,
              title: 'Your sign-in code',
              body: 'An urgent message',
              channels: ['email'],
              priority: 'high',
            }),
          });
          if (res.status !== 202) throw new Error(`urgent notification: ${res.status} ${await res.text()}`);
          acceptedAt.set(index, Date.now());
          workflowIds.set(index, ((await res.json()) as { workflowId: string }).workflowId);
        })(),
      );
    }
    await Promise.all(sends);
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    const indices = Array.from({ length: probes }, (_, k) => first + k);
    while (indices.some((i) => !receivedAt.has(i)) && Date.now() < deadline) await sleep(200);
    const missing = indices.filter((i) => !receivedAt.has(i)).length;
    if (missing > 0) throw new Error(`${missing} urgent notifications never reached the sink`);
    return summarize(indices.map((i) => receivedAt.get(i)! - acceptedAt.get(i)!));
  };

  try {
    log(`isolation: ${probes} high-priority notifications at ${options.ratePerSecond}/s, idle`);
    const idle = await sendProbes(0);
    log(`isolation: idle p50 ${idle.p50} ms, p99 ${idle.p99} ms`);

    log(`isolation: ${options.load} low-priority notifications through ${loadSource.name}`);
    let loadAccepted = 0;
    const stopLoad = new AbortController();
    const loading = loadSource({
      apiUrl: herald.apiUrl,
      apiKey: BENCH_API_KEY,
      recipients: Array.from({ length: loadRecipients }, (_, i) => `bench-${2 * probes + i}`),
      notifications: options.load,
      category: LOAD_CATEGORY,
      onAccepted: (count) => (loadAccepted += count),
      signal: stopLoad.signal,
    });
    // Its end is awaited below; an abort then is how it ends. A failure before the window says so.
    let loadFailure: unknown;
    loading.catch((error: unknown) => (loadFailure = error));
    // The window opens once the load is flowing: its first deliveries reached the sink.
    const flowingBy = Date.now() + SETTLE_TIMEOUT_MS;
    while (loadDelivered === 0) {
      if (loadFailure) throw new Error(`the low-priority load failed: ${String(loadFailure)}`);
      if (Date.now() > flowingBy)
        throw new Error(
          `the low-priority load never reached the sink (${loadAccepted} accepted in ${SETTLE_TIMEOUT_MS / 1000} s)`,
        );
      // A plain sleep: racing the load's promise once it has settled would resolve at once, every time,
      // and never let the receipts' collector run (the loop spun until the heap was exhausted).
      await sleep(200);
    }
    log(
      `isolation: the load is flowing; ${probes} high-priority notifications at ${options.ratePerSecond}/s`,
    );
    const windowStart = { accepted: loadAccepted, delivered: loadDelivered };
    const underLoad = await sendProbes(probes);
    // From the database: a bulk request answers only once all its recipients are in.
    const { rows } = await stack.current.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notifications WHERE category = $1',
      [LOAD_CATEGORY],
    );
    const load = {
      source: loadSource.name,
      notifications: options.load,
      acceptedInWindow: Math.max(rows[0]!.n, loadAccepted),
      deliveredInWindow: loadDelivered,
    };
    log(
      `isolation: under load p50 ${underLoad.p50} ms, p99 ${underLoad.p99} ms; load ${windowStart.delivered} → ${loadDelivered} delivered of ${loadAccepted} accepted`,
    );
    // What is not sent yet is not sent; what is queued stays queued, and the stack stops with it.
    stopLoad.abort();
    await loading.catch((error: unknown) => {
      if (!stopLoad.signal.aborted) throw error;
    });
    const ids = (first: number) => Array.from({ length: probes }, (_, k) => workflowIds.get(first + k)!);
    const stages = {
      idle: await stageWaits(client, ids(0)),
      underLoad: await stageWaits(client, ids(probes)),
    };
    return {
      ratePerSecond: options.ratePerSecond,
      windowSeconds: options.windowSeconds,
      idle,
      underLoad,
      stages,
      load,
    };
  } finally {
    clearInterval(collector);
    await herald.stop();
  }
}

/** The target: high-priority p99 during the load at most twice its idle p99. */
export function isolationRatio(result: IsolationPartResult): Ratio {
  const { idle, underLoad, load } = result;
  return {
    name: 'high-priority p99 idle ÷ p99 under a low-priority load',
    value: underLoad.p99 > 0 ? Math.round((idle.p99 / underLoad.p99) * 100) / 100 : 0,
    target: 0.5,
    explanation: `p99 ${underLoad.p99} ms under load against ${idle.p99} ms idle (${Math.round((underLoad.p99 / Math.max(1, idle.p99)) * 100) / 100}×; at most 2×), while ${load.acceptedInWindow - load.deliveredInWindow} low-priority notifications waited (${load.deliveredInWindow} delivered in the window)`,
  };
}

/** The part's section of the report. */
export function isolationMarkdown(result: IsolationPartResult): string[] {
  const { idle, underLoad, load } = result;
  const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    `## Isolation (high-priority notifications at ${result.ratePerSecond}/s for ${result.windowSeconds} s, idle and under a low-priority load)`,
    '',
    row('API 202 to the sink (ms)', 'p50', 'p95', 'p99', 'max', 'count'),
    row('---', '---', '---', '---', '---', '---'),
    row('idle', idle.p50, idle.p95, idle.p99, idle.max, idle.count),
    row('under load', underLoad.p50, underLoad.p95, underLoad.p99, underLoad.max, underLoad.count),
    '',
    "Where the time went, from the same notifications' workflow histories, p50 / p99 (ms):",
    '',
    row('stage', 'idle', 'under load'),
    row('---', '---', '---'),
    ...(
      [
        ['waiting in the notifications queue (workflow tasks, summed)', 'notificationsQueue'],
        ['workflow started to the email activity scheduled', 'toDelivery'],
        ['waiting in the email queue', 'emailQueue'],
        ['the email activity running', 'delivery'],
      ] as const
    ).map(([label, key]) =>
      row(
        label,
        `${result.stages.idle[key].p50} / ${result.stages.idle[key].p99}`,
        `${result.stages.underLoad[key].p50} / ${result.stages.underLoad[key].p99}`,
      ),
    ),
    '',
    `The load: ${load.notifications} low-priority email notifications through \`${load.source}\` (bulk requests naming no priority); by the end of the window ${load.acceptedInWindow} were recorded and ${load.deliveredInWindow} delivered, so ${load.acceptedInWindow - load.deliveredInWindow} were still waiting.`,
    '',
  ];
}
