// Bulk sends: how long POST /v1/notifications/bulk takes to answer 202 for 1,000 and 10,000 recipients
// (issue 19's target: 1,000 within a second), measured against an API whose namespace no worker polls,
// so nothing runs while it answers. Then one bulk of 1,000 with a worker: from the 202 to the fan-out
// having started every workflow, and to every notification having finished.
import { Client, type Connection } from '@temporalio/client';
import { bulkFanOutWorkflowId } from '../../src/workflows/bulk-fan-out.js';
import { startHeraldProcesses } from '../herald.js';
import { median, sleep, summarize, type LatencySummary } from '../load.js';
import { log } from '../progress.js';
import { ACCEPT_NAMESPACE, BENCH_API_KEY, type BenchStack } from '../stack.js';
import { CHANNELS } from './e2e.js';

export interface BulkSizeResult {
  recipients: number;
  /** The 202's arrival after the request was sent, one value a round (ms). */
  answerMs: number[];
  medianMs: number;
  /** The request body's size (bytes). */
  bodyBytes: number;
}

export interface BulkPartResult {
  sizes: BulkSizeResult[];
  /** One bulk of `recipients` run through a worker: the 202, then every start, then every outcome. */
  /** `allFinishedMs` is null when they had not all finished within FINISH_WITHIN_MS. */
  fanOut: { recipients: number; answerMs: number; allStartedMs: number; allFinishedMs: number | null };
  /** The 202 of every measured request, all sizes together (ms). */
  latency: LatencySummary;
}

export const BULK_SIZES = [1_000, 10_000] as const;
const ROUNDS = 3;
/** A busy machine delivers slowly: past this the part reports what it saw rather than wait on. */
const FINISH_WITHIN_MS = 10 * 60_000;

async function sendBulk(apiUrl: string, recipients: number, category: string) {
  const body = JSON.stringify({
    recipients: Array.from({ length: recipients }, (_, i) => `bench-${i}`),
    category,
    channels: CHANNELS,
    title: 'Benchmark bulk',
    body: 'One notification to many recipients.',
  });
  const began = performance.now();
  const res = await fetch(`${apiUrl}/v1/notifications/bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
    body,
  });
  const answer = (await res.json()) as { accepted: number; failed: number; results: { id?: string }[] };
  const ms = Math.round(performance.now() - began);
  if (res.status !== 202 || answer.failed > 0)
    throw new Error(`bulk of ${recipients}: ${res.status}, ${answer.failed} failed`);
  return { ms, bodyBytes: Buffer.byteLength(body), ids: answer.results.map((r) => r.id!) };
}

export async function runBulk(stack: BenchStack, connection: Connection): Promise<BulkPartResult> {
  const build = stack.current;
  await build.ensureRecipients(Math.max(...BULK_SIZES));
  const sizes: BulkSizeResult[] = [];
  const accept = await startHeraldProcesses(stack, {
    label: 'bulk-accept',
    workers: 0,
    api: true,
    env: { TEMPORAL_NAMESPACE: ACCEPT_NAMESPACE },
  });
  try {
    // A warm-up, as a running API would be: its first request compiles and connects.
    await sendBulk(accept.apiUrl, 10, `bench-bulk-warm-${Date.now().toString(36)}`);
    for (const recipients of BULK_SIZES) {
      const answerMs: number[] = [];
      let bodyBytes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const sent = await sendBulk(accept.apiUrl, recipients, `bench-bulk-${Date.now().toString(36)}`);
        answerMs.push(sent.ms);
        bodyBytes = sent.bodyBytes;
        log(`bulk: ${recipients} recipients answered 202 in ${sent.ms} ms`);
      }
      sizes.push({ recipients, answerMs, medianMs: median(answerMs, 0), bodyBytes });
    }
  } finally {
    await accept.stop();
  }
  // Their workflows live in the namespace no worker polls; in the default one the reconciler of the next
  // worker would start all of them (tens of thousands) and the fan-out below would measure that instead.
  await build.pool.query(
    `UPDATE notifications SET status = 'cancelled', completed_at = now()
     WHERE category LIKE 'bench-bulk-%' AND category NOT LIKE 'bench-bulk-run-%'
       AND status IN ('accepted', 'scheduled')`,
  );

  // With a worker, in the namespace the worker polls: the fan-out and the notifications run.
  const recipients = BULK_SIZES[0];
  const herald = await startHeraldProcesses(stack, { label: 'bulk-fan-out', workers: 1, api: true });
  try {
    const category = `bench-bulk-run-${Date.now().toString(36)}`;
    const began = performance.now();
    const sent = await sendBulk(herald.apiUrl, recipients, category);
    const [row] = (
      await build.pool.query<{ id: string }>(
        'SELECT id::text FROM bulk_sends WHERE notification_ids[1] = $1::uuid',
        [sent.ids[0]],
      )
    ).rows;
    await new Client({ connection }).workflow.getHandle(bulkFanOutWorkflowId(row!.id)).result();
    const allStartedMs = Math.round(performance.now() - began);
    log(`bulk: fan-out of ${recipients} started every workflow ${allStartedMs} ms after the request`);
    let allFinishedMs: number | null = null;
    while (performance.now() - began < FINISH_WITHIN_MS) {
      const { rows } = await build.pool.query<{ open: string }>(
        `SELECT count(*) AS open FROM notifications
         WHERE category = $1 AND status IN ('accepted', 'scheduled', 'processing', 'deferred')`,
        [category],
      );
      if (Number(rows[0]!.open) === 0) {
        allFinishedMs = Math.round(performance.now() - began);
        break;
      }
      await sleep(250);
    }
    log(`bulk: all ${recipients} finished: ${allFinishedMs ?? 'not'} ms after the request`);
    return {
      sizes,
      fanOut: { recipients, answerMs: sent.ms, allStartedMs, allFinishedMs },
      latency: summarize(sizes.flatMap((s) => s.answerMs)),
    };
  } finally {
    await herald.stop();
  }
}

/** The report's section. */
export function bulkMarkdown(result: BulkPartResult): string[] {
  const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    '## Bulk sends (POST /v1/notifications/bulk)',
    '',
    row('recipients', 'body', `202 after (ms), ${ROUNDS} rounds`, 'median (ms)'),
    row('---', '---', '---', '---'),
    ...result.sizes.map((s) =>
      row(s.recipients, `${Math.round(s.bodyBytes / 1024)} KiB`, s.answerMs.join(', '), s.medianMs),
    ),
    '',
    `One bulk of ${result.fanOut.recipients} with a worker: 202 after ${result.fanOut.answerMs} ms, every ` +
      `workflow started after ${result.fanOut.allStartedMs} ms, ` +
      (result.fanOut.allFinishedMs === null
        ? `not every notification finished within ${FINISH_WITHIN_MS / 60_000} min.`
        : `every notification finished after ${result.fanOut.allFinishedMs} ms.`),
    '',
  ];
}
