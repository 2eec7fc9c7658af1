// Isolation: do urgent notifications wait behind a campaign? High-priority notifications go through
// POST /v1/notifications at a steady pace, first on an idle stack, then while a large low-priority load
// runs through the same API, queues and worker. Measured: the API's 202 to the SMTP sink receiving each
// one, in both phases. The load comes from a function (bulk today), so a broadcast can take its place.
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
}

/** Sends a low-priority load through Herald, resolving once all of it is accepted. */
export type LowPriorityLoad = (target: LoadTarget) => Promise<void>;

/** How many recipients one bulk request takes (BULK_LIMIT in src/domain/schemas.ts). */
const BULK_RECIPIENTS = 1000;

/** The load as a campaign sends it today: bulk requests, each naming no priority (bulk's default is low). */
export const bulkLoad: LowPriorityLoad = async (target) => {
  const perRequest = Math.min(BULK_RECIPIENTS, target.recipients.length);
  for (let sent = 0; sent < target.notifications; sent += perRequest) {
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

export interface IsolationPartResult {
  ratePerSecond: number;
  windowSeconds: number;
  /** The API's 202 to the sink, high-priority notifications on an idle stack. */
  idle: LatencySummary;
  /** The same while the low-priority load runs. */
  underLoad: LatencySummary;
  load: {
    source: string;
    notifications: number;
    /** Accepted by the end of the window, and delivered by then: the rest was still queued. */
    acceptedInWindow: number;
    deliveredInWindow: number;
  };
}

const PROBE_CATEGORY = 'bench-isolation-urgent';
const SETTLE_TIMEOUT_MS = 120_000;

export async function runIsolation(
  stack: BenchStack,
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
    const loading = loadSource({
      apiUrl: herald.apiUrl,
      apiKey: BENCH_API_KEY,
      recipients: Array.from({ length: loadRecipients }, (_, i) => `bench-${2 * probes + i}`),
      notifications: options.load,
      category: 'bench-isolation-campaign',
      onAccepted: (count) => (loadAccepted += count),
    });
    // The window opens once the load is flowing: its first deliveries reached the sink.
    const flowingBy = Date.now() + SETTLE_TIMEOUT_MS;
    while (loadDelivered === 0) {
      if (Date.now() > flowingBy) throw new Error('the low-priority load never reached the sink');
      await Promise.race([loading, sleep(200)]);
    }
    log(
      `isolation: the load is flowing; ${probes} high-priority notifications at ${options.ratePerSecond}/s`,
    );
    const windowStart = { accepted: loadAccepted, delivered: loadDelivered };
    const underLoad = await sendProbes(probes);
    const load = {
      source: loadSource.name,
      notifications: options.load,
      acceptedInWindow: loadAccepted,
      deliveredInWindow: loadDelivered,
    };
    log(
      `isolation: under load p50 ${underLoad.p50} ms, p99 ${underLoad.p99} ms; load ${windowStart.delivered} → ${loadDelivered} delivered of ${loadAccepted} accepted`,
    );
    // The rest of the load is left queued: the stack stops with it, and nothing after this part waits.
    await loading;
    return {
      ratePerSecond: options.ratePerSecond,
      windowSeconds: options.windowSeconds,
      idle,
      underLoad,
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
    explanation: `p99 ${underLoad.p99} ms under load against ${idle.p99} ms idle (${Math.round((underLoad.p99 / Math.max(1, idle.p99)) * 100) / 100}×; at most 2×), while ${load.acceptedInWindow - load.deliveredInWindow} of the ${load.notifications} low-priority notifications still waited`,
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
    `The load: ${load.notifications} low-priority email notifications through \`${load.source}\` (bulk requests naming no priority); by the end of the window ${load.acceptedInWindow} were accepted and ${load.deliveredInWindow} delivered, so ${load.acceptedInWindow - load.deliveredInWindow} were still queued behind the urgent ones.`,
    '',
  ];
}
