// Broadcast: one notification to a topic of N subscribers, by email, measured in deliveries a second from
// the 202 until every subscriber's email reached the SMTP sink (or the broadcast's progress says every
// recipient's notification ended). Beside it, on the same server in the same run, the floor: N bare
// workflows of one no-op activity on an email queue (one delivery each), started as fast as possible.
// Target: the broadcast delivers at 0.8 of the floor's rate (issue 19).
import type { Client } from '@temporalio/client';
import { startHeraldProcesses } from '../herald.js';
import { perSecond, sleep } from '../load.js';
import { log, showProgress } from '../progress.js';
import { clearSinks, drainReceipts } from '../receipts.js';
import type { Ratio } from '../report/report.js';
import type { components } from '@herald/client';
import { BENCH_API_KEY, type BenchStack } from '../stack.js';
import { runVariant, startFloorWorker, type FloorResult } from './floor.js';

/** A broadcast's progress, as GET /v1/notifications/:id gives it (the OpenAPI document's type). */
export type BroadcastProgress = components['schemas']['Broadcast']['progress'];

export interface BroadcastPartResult {
  subscribers: number;
  /** Subscribing them, 1,000 a call (ms). */
  subscribeMs: number;
  /** POST /v1/notifications {topic} to its 202 (ms). */
  answerMs: number;
  /** From the 202 to the progress first showing every recipient started (null: not seen). */
  allStartedMs: number | null;
  /** Distinct subscribers whose email reached the sink. */
  delivered: number;
  /** From the 202 to the last of those emails (ms). */
  deliveredMs: number;
  /** delivered ÷ deliveredMs. */
  deliveriesPerSecond: number;
  /** The broadcast's progress at the end, as GET /v1/notifications/:id gave it. */
  progress: BroadcastProgress;
  status: string;
  /** False when the part stopped waiting (FINISH_WITHIN_MS) before every recipient ended. */
  finished: boolean;
  /** The floor's run of `subscribers` one-delivery workflows, and its deliveries a second. */
  floor: FloorResult;
  /** Floor workflows in flight while starting them: the broadcast's batches start 64 at a time. */
  floorConcurrency: number;
}

const TOPIC = 'bench-broadcast';
const SUBSCRIBE_PER_CALL = 1000;
/** As many floor starts in flight as a broadcast batch makes (src/workflows/broadcast.ts). */
const FLOOR_CONCURRENCY = 64;
/** A busy machine delivers slowly: past this the part reports what it saw rather than wait on. */
const FINISH_WITHIN_MS = 10 * 60_000;

export async function runBroadcast(
  stack: BenchStack,
  client: Client,
  options: { subscribers: number; profileDir?: string },
): Promise<BroadcastPartResult> {
  const n = options.subscribers;
  await stack.current.ensureRecipients(n);

  // The floor first and Herald right after, so both meet the machine in the same state.
  log(`broadcast: floor of ${n} one-delivery workflows, ${FLOOR_CONCURRENCY} starts in flight`);
  const { worker } = await startFloorWorker(
    stack,
    options.profileDir,
    // Its own name, so that its profile is not summed with the floor part's worker.
    'broadcast-floor-worker',
  );
  let floor: FloorResult;
  try {
    floor = await runVariant(
      stack,
      client,
      { label: 'floor-delivery', workflowType: 'floorDeliveryWorkflow', activitiesPerWorkflow: 1 },
      worker,
      { notifications: n, concurrency: FLOOR_CONCURRENCY },
    );
  } finally {
    await worker.stop();
  }
  log(`broadcast: floor ${floor.workflowsPerSecond} deliveries/s`);

  const herald = await startHeraldProcesses(stack, {
    label: 'broadcast',
    workers: 1,
    api: true,
    profileDir: options.profileDir,
  });
  try {
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${herald.apiUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    await call('PUT', `/v1/topics/${TOPIC}`, { name: 'Benchmark broadcast' });
    const subscribing = Date.now();
    for (let from = 0; from < n; from += SUBSCRIBE_PER_CALL) {
      const users = Array.from(
        { length: Math.min(SUBSCRIBE_PER_CALL, n - from) },
        (_, i) => `bench-${from + i}`,
      );
      const { results } = (await call('POST', `/v1/topics/${TOPIC}/subscribers`, { users })) as {
        results: { error?: unknown }[];
      };
      const errors = results.filter((r) => r.error !== undefined).length;
      if (errors > 0) throw new Error(`subscribing ${users.length} users: ${errors} errors`);
    }
    const subscribeMs = Date.now() - subscribing;
    log(`broadcast: ${n} subscribers to ${TOPIC} in ${subscribeMs} ms`);

    clearSinks(stack.sinks);
    const sending = Date.now();
    const accepted = (await call('POST', '/v1/notifications', {
      topic: TOPIC,
      category: `bench-broadcast-${Date.now().toString(36)}`,
      title: 'Benchmark broadcast',
      body: 'One notification to every subscriber of a topic.',
      channels: ['email'],
    })) as { id: string };
    const t0 = Date.now();
    const answerMs = t0 - sending;

    const delivered = new Set<number>();
    let lastAt = t0;
    let allStartedMs: number | null = null;
    let view = { status: 'accepted', progress: undefined as BroadcastProgress | undefined };
    const ended = (p?: BroadcastProgress) =>
      p !== undefined &&
      p.started >= p.recipients &&
      p.sent + p.failed + p.skipped + p.cancelled >= p.recipients;
    const stopProgress = showProgress(
      'broadcast',
      () => `started ${view.progress?.started ?? 0}/${n} · emails ${delivered.size}/${n}`,
    );
    try {
      while (Date.now() - t0 < FINISH_WITHIN_MS) {
        for (const r of drainReceipts(stack.sinks)) {
          if (r.channel !== 'email' || r.index < 0 || r.index >= n) continue;
          delivered.add(r.index);
          lastAt = Math.max(lastAt, r.at);
        }
        view = (await call('GET', `/v1/notifications/${accepted.id}`)) as typeof view;
        const p = view.progress;
        if (allStartedMs === null && p && p.started >= p.recipients) allStartedMs = Date.now() - t0;
        if (delivered.size >= n || ended(p)) break;
        await sleep(250);
      }
    } finally {
      stopProgress();
    }
    // Emails the sink took between the last drain and the end.
    for (const r of drainReceipts(stack.sinks))
      if (r.channel === 'email' && r.index >= 0 && r.index < n && !delivered.has(r.index)) {
        delivered.add(r.index);
        lastAt = Math.max(lastAt, r.at);
      }
    const deliveredMs = lastAt - t0;
    const result: BroadcastPartResult = {
      subscribers: n,
      subscribeMs,
      answerMs,
      allStartedMs,
      delivered: delivered.size,
      deliveredMs,
      deliveriesPerSecond: perSecond(delivered.size, deliveredMs),
      progress: view.progress!,
      status: view.status,
      finished: delivered.size >= n || ended(view.progress),
      floor,
      floorConcurrency: FLOOR_CONCURRENCY,
    };
    log(
      `broadcast: ${result.delivered}/${n} emails in ${deliveredMs} ms: ${result.deliveriesPerSecond} deliveries/s ` +
        `(floor ${floor.workflowsPerSecond}/s)`,
    );
    return result;
  } finally {
    await herald.stop();
  }
}

export function broadcastRatio(result: BroadcastPartResult): Ratio {
  const floorRate = result.floor.workflowsPerSecond;
  return {
    name: 'broadcast deliveries/s ÷ floor (one no-op activity per delivery)',
    value: floorRate > 0 ? Math.round((result.deliveriesPerSecond / floorRate) * 100) / 100 : 0,
    target: 0.8,
    explanation: `${result.delivered} emails from one broadcast at ${result.deliveriesPerSecond}/s against ${result.floor.workflows} floor workflows at ${floorRate}/s`,
  };
}

/** The part's section of the report. */
export function broadcastMarkdown(result: BroadcastPartResult): string[] {
  const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const p = result.progress;
  const { floor } = result;
  return [
    `## Broadcast (one notification to a topic of ${result.subscribers} subscribers, email)`,
    '',
    row('measure', 'broadcast', 'floor'),
    row('---', '---', '---'),
    row('deliveries', `${result.delivered} emails at the SMTP sink`, `${floor.workflows} no-op activities`),
    row(
      'from the first request to the last delivery (ms)',
      `${result.deliveredMs} after the 202`,
      `${floor.durationMs} after the first start`,
    ),
    row('**deliveries a second**', `**${result.deliveriesPerSecond}**`, `**${floor.workflowsPerSecond}**`),
    row(
      'starts',
      `by the broadcast's workflow, 500 a batch, 64 at a time, paced (FAN_OUT_WINDOW, src/activities/fan-out-window.ts); all started ${result.allStartedMs ?? '—'} ms after the 202`,
      `from the benchmark, ${result.floorConcurrency} at a time: ${floor.startPerSecond}/s`,
    ),
    '',
    `202 after ${result.answerMs} ms; subscribing them (1,000 a call) took ${result.subscribeMs} ms. ` +
      `Progress at the end: status \`${result.status}\`, recipients ${p.recipients}, started ${p.started}, ` +
      `sent ${p.sent}, failed ${p.failed}, skipped ${p.skipped}, cancelled ${p.cancelled}` +
      (result.finished ? '.' : ` (stopped waiting after ${FINISH_WITHIN_MS / 60_000} min).`),
    '',
  ];
}
