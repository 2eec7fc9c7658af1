// One chaos run: start the stack, send the notifications through the API while the faults go in at
// their points of progress, wait until everything settles, and judge the outcome from sinks and database.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHeraldClient, HeraldProblem, type HeraldClient, type NotificationInput } from '@herald/client';
import type { Fault, FaultContext } from './faults.js';
import { CHAOS_API_KEY, recipientOf, startChaosStack, type ChaosStack } from './stack.js';
import { startTwilioReceipts } from './twilio-receipts.js';
import {
  CHANNELS,
  FINAL_STATES,
  receiptCount,
  refusedAnswers,
  repeatedMessageIds,
  verify,
  type Verdict,
} from './verify.js';

export interface ChaosOptions {
  notifications: number;
  /** Notifications sent per second: spreads the load over the faults. */
  rate: number;
  /** Requests in flight at most: a slow API (Temporal down) slows the stream instead of piling up. */
  concurrency: number;
  faults: Fault[];
  /** How long to wait, after the last notification is accepted, for everything to settle. */
  settleTimeoutMs: number;
  log: (line: string) => void;
  /** Keep the scratch folder (logs, PostgreSQL and Temporal data) for a look afterwards. */
  keepDir?: boolean;
}

export interface InjectedFault {
  name: string;
  /** Share of notifications accepted when it went in. */
  atProgress: number;
  /** Seconds from the start of the load. */
  atSeconds: number;
  tookMs: number;
}

export interface ChaosResult {
  verdict: Verdict;
  injected: InjectedFault[];
  /** Requests the API did not answer with 202 (retried with the same Idempotency-Key). */
  apiRetries: number;
  /** Notifications the API never accepted, whatever the retries. */
  refused: number;
  repeatedEmailMessageIds: number;
  /** 429 and 5xx answers the Slack, Discord, Teams, Twilio, FCM and APNs fakes gave (the bursts, once Herald met them). */
  refusedAnswers: ReturnType<typeof refusedAnswers>;
  /** Twilio's `delivered` status callbacks the API took, and those it did not (down at the time). */
  twilioCallbacks: { taken: number; missed: number };
  workerStarts: number;
  apiStarts: number;
  unexpectedExits: { worker: number; api: number };
  loadSeconds: number;
  settleSeconds: number;
  totalSeconds: number;
  dir: string;
  /** True when nothing was lost and nothing disagrees. */
  passed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const CHAOS_RETRY_POLICIES = Object.fromEntries(
  CHANNELS.map((c) => [
    c,
    { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', giveUpAfter: '30m' },
  ]),
);

/** How long one notification may take to be accepted, faults and all. */
const ACCEPT_DEADLINE_MS = 180_000;

/**
 * A client that retries 429, 503 and lost connections (the API killed, PostgreSQL down) with the same
 * Idempotency-Key, so a retry never sends twice; `onRetry` counts the retried requests.
 */
function chaosClient(stack: ChaosStack, onRetry: () => void): HeraldClient {
  return createHeraldClient({
    baseUrl: stack.apiUrl,
    apiKey: CHAOS_API_KEY,
    timeoutMs: 15_000,
    retry: {
      maxAttempts: Infinity,
      maxElapsedMs: ACCEPT_DEADLINE_MS,
      initialDelayMs: 500,
      maxDelayMs: 2_000,
      onRetry,
    },
  });
}

/** Sends one notification until the API accepts it; undefined when it refused it for good (a 4xx). */
async function sendNotification(
  herald: HeraldClient,
  index: number,
  runId: string,
  onRetry: () => void,
): Promise<string | undefined> {
  const input: NotificationInput = {
    userId: recipientOf.externalId(index),
    category: 'chaos',
    title: `Chaos ${index}`,
    body: `Chaos notification ${index}`,
    channels: [...CHANNELS],
  };
  const deadline = Date.now() + ACCEPT_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      return (await herald.notifications.send(input, { idempotencyKey: `${runId}-${index}` })).id;
    } catch (error) {
      if (error instanceof HeraldProblem && error.status < 500) return undefined;
      // Another 5xx, or the client's retries ran out: a fault may cause either, and the key keeps it safe.
    }
    onRetry();
    await sleep(500);
  }
  return undefined;
}

async function countUnsettled(stack: ChaosStack, ids: string[]): Promise<number> {
  const { rows } = await stack.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM notifications WHERE id = ANY($1::uuid[]) AND NOT (status::text = ANY($2))`,
    [ids, FINAL_STATES],
  );
  return Number(rows[0]!.n);
}

/** Waits until every accepted notification is final and the sinks have been quiet for a while. */
async function settle(stack: ChaosStack, ids: string[], timeoutMs: number, log: (l: string) => void) {
  const deadline = Date.now() + timeoutMs;
  const received = () => receiptCount(stack.sinks);
  let lastReceived = -1;
  let quietSince = Date.now();
  let lastLog = 0;
  while (Date.now() < deadline) {
    let unsettled = ids.length;
    try {
      unsettled = await countUnsettled(stack, ids);
    } catch {
      // PostgreSQL may still be coming back
    }
    const now = received();
    if (now !== lastReceived) quietSince = Date.now();
    lastReceived = now;
    if (unsettled === 0 && Date.now() - quietSince > 3000) return;
    if (Date.now() - lastLog > 10_000) {
      log(`settling: ${unsettled} notifications not final, ${now} receipts at the sinks`);
      lastLog = Date.now();
    }
    await sleep(1000);
  }
  log('settle timeout: judging what there is');
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-chaos-'));
  const stack = await startChaosStack({ dir, retryPolicies: CHAOS_RETRY_POLICIES, log });
  // Ctrl-C stops every process the run started.
  const interrupt = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const twilioReceipts = startTwilioReceipts(stack.sinks.twilio);
  let passed = false;
  try {
    await stack.seedRecipients(options.notifications);
    const runId = randomUUID();
    const accepted = new Map<number, string>();
    const goneSubscriptions = new Set<number>();
    const injected: InjectedFault[] = [];
    let apiRetries = 0;
    let refused = 0;
    const countRetry = () => apiRetries++;
    const herald = chaosClient(stack, countRetry);
    const loadStart = Date.now();

    const context: FaultContext = {
      stack,
      notifications: options.notifications,
      accepted: () => accepted.size,
      goneSubscriptions,
      log,
    };
    let loadDone = false;
    const faults = (async () => {
      for (const fault of [...options.faults].sort((a, b) => a.at - b.at)) {
        while (!loadDone && accepted.size < fault.at * options.notifications) await sleep(100);
        const at = Date.now();
        const atProgress = accepted.size / options.notifications;
        log(`fault at ${Math.round(atProgress * 100)}%: ${fault.name}`);
        await fault.inject(context);
        injected.push({
          name: fault.name,
          atProgress: Math.round(atProgress * 1000) / 1000,
          atSeconds: Math.round((at - loadStart) / 100) / 10,
          tookMs: Date.now() - at,
        });
      }
    })();

    // A steady stream at `rate` per second, each request retried on its own until accepted.
    const sends = new Set<Promise<void>>();
    for (let i = 0; i < options.notifications; i++) {
      const due = loadStart + (i * 1000) / options.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      while (sends.size >= options.concurrency) await Promise.race(sends);
      const send = sendNotification(herald, i, runId, countRetry).then((id) => {
        if (id) accepted.set(i, id);
        else refused++;
        sends.delete(send);
      });
      sends.add(send);
      if (i % Math.max(1, Math.round(options.notifications / 10)) === 0)
        log(`sent ${i}/${options.notifications}, accepted ${accepted.size}`);
    }
    await Promise.all(sends);
    loadDone = true;
    await faults;
    const loadSeconds = (Date.now() - loadStart) / 1000;
    log(`load done: ${accepted.size} accepted, ${refused} refused, ${apiRetries} retried requests`);
    // An outage still running (SMTP) ends on its own; settle waits for its deliveries too.
    const settleStart = Date.now();
    await settle(stack, [...accepted.values()], options.settleTimeoutMs, log);
    await twilioReceipts.stop();
    const settleSeconds = (Date.now() - settleStart) / 1000;

    const verdict = await verify({ pool: stack.pool, sinks: stack.sinks, accepted, goneSubscriptions });
    const repeatedEmailMessageIds = repeatedMessageIds(stack.sinks);
    passed =
      verdict.lost.length === 0 &&
      verdict.disagreements.length === 0 &&
      refused === 0 &&
      verdict.accepted === options.notifications;
    return {
      verdict,
      injected,
      apiRetries,
      refused,
      repeatedEmailMessageIds,
      refusedAnswers: refusedAnswers(stack.sinks),
      twilioCallbacks: { taken: twilioReceipts.taken, missed: twilioReceipts.missed },
      workerStarts: stack.worker.starts,
      apiStarts: stack.api.starts,
      unexpectedExits: { worker: stack.worker.unexpectedExits, api: stack.api.unexpectedExits },
      loadSeconds,
      settleSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      dir,
      passed,
    };
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await twilioReceipts.stop();
    await stack.stop();
    // A failed run keeps its logs for a look.
    if (passed && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    else log(`logs and data kept in ${dir}`);
  }
}
