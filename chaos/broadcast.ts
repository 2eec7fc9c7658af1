// The broadcast under faults: a topic of N subscribers (chaos recipients), one broadcast to it by email,
// the worker SIGKILLed twice and the Temporal server restarted once while it fans out and delivers. Judged
// from the SMTP sink and the database: every subscriber got the email exactly once, except where a lost
// outcome explains a second one (as chaos/verify.ts judges: the worker killed mid-send).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHAOS_API_KEY, recipientOf, startChaosStack } from './stack.js';
import { AMBIGUOUS_ATTEMPT } from './verify.js';
import { CHAOS_RETRY_POLICIES } from './suite.js';

export interface BroadcastChaosResult {
  subscribers: number;
  /** Recipients' notifications recorded for the broadcast (one per subscriber). */
  recorded: number;
  finalStates: Record<string, number>;
  /** Subscribers whose email never arrived. */
  missing: number[];
  duplicates: number;
  /** Duplicates no ambiguous attempt (an outcome lost with the killed worker) explains. */
  unexplainedDuplicates: number;
  faults: string[];
  workerStarts: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBroadcastChaos(options: {
  subscribers: number;
  settleTimeoutMs: number;
  log: (line: string) => void;
}): Promise<BroadcastChaosResult> {
  const { subscribers, log } = options;
  const began = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-broadcast-chaos-'));
  const stack = await startChaosStack({ dir, retryPolicies: CHAOS_RETRY_POLICIES, log });
  // Requests are retried through faults: the API answers 503 (or not at all) while Temporal is down.
  const api = async (route: string, body?: unknown, headers: Record<string, string> = {}) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(stack.apiUrl + route, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${CHAOS_API_KEY}`,
            'content-type': 'application/json',
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status < 500) return res;
      } catch {
        // the API or its dependencies are restarting
      }
      if (attempt > 120) throw new Error(`${route} kept failing`);
      await sleep(1000);
    }
  };
  try {
    await stack.seedRecipients(subscribers);
    const topic = 'chaos-audience';
    const put = await fetch(`${stack.apiUrl}/v1/topics/${topic}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${CHAOS_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Chaos audience' }),
    });
    if (put.status !== 201) throw new Error(`PUT topic: ${put.status}`);
    for (let i = 0; i < subscribers; i += 1000) {
      const users = Array.from({ length: Math.min(1000, subscribers - i) }, (_, k) =>
        recipientOf.externalId(i + k),
      );
      const res = await api(`/v1/topics/${topic}/subscribers`, { users });
      if (res.status !== 200) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
    }
    const accepted = await api(
      '/v1/notifications',
      { topic, category: 'chaos', title: 'Broadcast', body: 'To every subscriber', channels: ['email'] },
      { 'idempotency-key': 'chaos-broadcast' },
    );
    if (accepted.status !== 202) throw new Error(`broadcast: ${accepted.status} ${await accepted.text()}`);
    const { id } = (await accepted.json()) as { id: string };
    log(`broadcast ${id} to ${subscribers} subscribers`);

    const progress = async () => {
      try {
        const { rows } = await stack.pool.query<{ started: number; ended: number; sent: number }>(
          `SELECT (SELECT started FROM broadcasts WHERE id = $1) AS started,
             count(*) FILTER (WHERE status IN ('sent', 'partially_sent', 'failed', 'skipped', 'cancelled'))::int AS ended,
             count(*) FILTER (WHERE status = 'sent')::int AS sent
           FROM notifications WHERE broadcast_id = $1`,
          [id],
        );
        return rows[0]!;
      } catch {
        return undefined; // PostgreSQL busy; asked again
      }
    };
    const until = async (what: string, check: (p: { started: number; ended: number }) => boolean) => {
      for (;;) {
        const p = await progress();
        if (p && check(p)) return log(`${what}: started ${p.started}, ended ${p.ended}`);
        await sleep(200);
      }
    };
    const faults: string[] = [];
    // During the fan-out (first batch started), mid-way, and while the last deliveries run.
    await until('first batch started', (p) => p.started > 0);
    await stack.worker.killAndRestart();
    faults.push('SIGKILL worker during the fan-out');
    await until('a third delivered', (p) => p.ended >= subscribers / 3);
    await stack.restartTemporal(2_000);
    faults.push('Temporal server restarted (down 2 s)');
    await until('two thirds delivered', (p) => p.ended >= (2 * subscribers) / 3);
    await stack.worker.killAndRestart();
    faults.push('SIGKILL worker while delivering');
    log(faults.join('; '));

    const deadline = Date.now() + options.settleTimeoutMs;
    for (let last = 0; Date.now() < deadline; await sleep(1000)) {
      const p = await progress();
      if (p && p.ended >= subscribers) break;
      if (p && Date.now() - last > 15_000) {
        log(`settling: ${p.ended}/${subscribers} ended`);
        last = Date.now();
      }
    }
    await sleep(3_000); // late SMTP transactions land

    const { rows } = await stack.pool.query<{ external_id: string; status: string; ambiguous: number }>(
      `SELECT u.external_id, n.status::text,
         (SELECT count(*)::int FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
          WHERE d.notification_id = n.id AND ${AMBIGUOUS_ATTEMPT}) AS ambiguous
       FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.broadcast_id = $1`,
      [id],
    );
    const received = new Map<number, number>();
    for (const mail of stack.sinks.smtp.messages) {
      const match = /^u(\d+)@chaos\.test$/.exec(mail.envelopeTo[0] ?? '');
      const index = match ? Number(match[1]) : -1;
      received.set(index, (received.get(index) ?? 0) + 1);
    }
    const finalStates: Record<string, number> = {};
    let duplicates = 0;
    let unexplained = 0;
    for (const row of rows) {
      finalStates[row.status] = (finalStates[row.status] ?? 0) + 1;
      const count = received.get(Number(row.external_id.slice('chaos-'.length))) ?? 0;
      if (count > 1) {
        duplicates += count - 1;
        unexplained += Math.max(0, count - 1 - row.ambiguous);
      }
    }
    const missing = Array.from({ length: subscribers }, (_, i) => i).filter((i) => !received.get(i));
    return {
      subscribers,
      recorded: rows.length,
      finalStates,
      missing,
      duplicates,
      unexplainedDuplicates: unexplained,
      faults,
      workerStarts: stack.worker.starts,
      seconds: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
