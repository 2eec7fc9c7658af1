// A delivery attempt cannot overlap the next one (issue 15). An attempt keeps to a time budget below
// its activity timeout however its SMTP servers hang, heartbeats while it waits, and holds a lease on
// its delivery, so a retry never sends while an attempt may still be talking to the provider. Real
// parts: Temporal, PostgreSQL, and SMTP servers that hang over real connections.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { createDb, type Db } from '../src/store/db.js';
import { BROADCAST_CANCELLED, openAttempt, recordFailed, recordSent } from '../src/store/deliveries.js';
import { broadcastCancelledSql } from '../src/store/broadcasts.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { startTcpGate, type TcpGate } from '../tools/fakes/tcp-gate.js';
import { snapshotTables } from './support/db-snapshot.js';
import {
  eventually,
  startHerald,
  testEnv,
  uniqueId,
  untilStatus,
  type RunningStack,
} from './support/stack.js';

// A 16 s attempt timeout: a 12.8 s budget, a 17.8 s lease, a 4 s heartbeat timeout.
const RETRY_POLICIES = JSON.stringify({
  email: { initialInterval: '200ms', maximumInterval: '1s', attemptTimeout: '16s' },
});
const ATTEMPT_TIMEOUT_MS = 16_000;
const MAIL_FROM = 'Herald <herald@example.test>';

async function notifyByEmail(herald: RunningStack) {
  const email = `${uniqueId('attempt')}@example.test`;
  const user = await herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
  assert.equal(user.status, 201, await user.clone().text());
  const { id: userId } = (await user.json()) as { id: string };
  const res = await herald.api('/v1/notifications', {
    json: { userId, category: 'updates', title: 'Hello', body: 'Attempt test', channels: ['email'] },
  });
  assert.equal(res.status, 202, await res.clone().text());
  const { id, workflowId } = (await res.json()) as { id: string; workflowId: string };
  return { email, id, handle: herald.temporal.workflow.getHandle(workflowId) };
}

const attemptsOf = (herald: RunningStack, notificationId: string) =>
  herald.db.deliveryAttempt.findMany({
    where: { delivery: { notificationId } },
    orderBy: { startedAt: 'asc' },
  });

/** Each attempt started after the one before it had finished. */
function assertNoOverlap(attempts: { attempt: number; startedAt: Date; finishedAt: Date | null }[]) {
  for (let i = 1; i < attempts.length; i++) {
    const before = attempts[i - 1]!;
    assert.ok(before.finishedAt, `attempt ${before.attempt} finished`);
    assert.ok(
      attempts[i]!.startedAt >= before.finishedAt,
      `attempt ${attempts[i]!.attempt} started while attempt ${before.attempt} was still running`,
    );
  }
}

/** The delivery activity Temporal is waiting for, as the workflow's description shows it. */
async function pendingDelivery(handle: ReturnType<RunningStack['temporal']['workflow']['getHandle']>) {
  const { raw } = await handle.describe();
  return raw.pendingActivities?.[0] as temporal.api.workflow.v1.IPendingActivityInfo | undefined;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

describe('an attempt keeps to its time budget', () => {
  let primary: SmtpSink;
  let fallback: SmtpSink;
  let herald: RunningStack;

  before(async () => {
    [primary, fallback] = await Promise.all([startSmtpSink(), startSmtpSink()]);
    herald = await startHerald(
      testEnv({
        SMTP_URL: primary.url,
        SMTP_FALLBACK_URL: fallback.url,
        MAIL_FROM,
        DELIVERY_RETRY_POLICIES: RETRY_POLICIES,
      }),
    );
  });
  after(async () => {
    await herald?.stop();
    await Promise.all([primary?.close(), fallback?.close()]);
  });

  it('stops when both servers hang, records the attempt as timed out, and sends once one answers', async () => {
    primary.stall('greeting');
    fallback.stall('data');
    const { email, id, handle } = await notifyByEmail(herald);

    // The primary had only its share of the budget: the fallback got the message, and holds it unanswered.
    await eventually(async () => fallback.sessions.some((s) => s.rcptTo.includes(email)), {
      what: 'the fallback server to be sent the message',
    });
    const waiting = await eventually(async () => (await pendingDelivery(handle))?.lastHeartbeatTime, {
      what: 'a heartbeat from the waiting attempt',
    });
    assert.ok(waiting);

    const [first] = await eventually(
      async () => {
        const attempts = await attemptsOf(herald, id);
        return attempts[0]?.finishedAt && attempts;
      },
      { what: 'the first attempt to end', timeoutMs: 2 * ATTEMPT_TIMEOUT_MS },
    );
    assert.equal(first!.outcome, 'transient_failure');
    assert.match(first!.error ?? '', /^timed out: the attempt's 12\.8 s ran out/);
    const tookMs = first!.finishedAt!.getTime() - first!.startedAt.getTime();
    assert.ok(tookMs < ATTEMPT_TIMEOUT_MS, `the attempt ended before its activity timeout: ${tookMs} ms`);
    // Temporal saw the attempt's own failure, retryable, and not a timeout of its own.
    const failure = await eventually(async () => (await pendingDelivery(handle))?.lastFailure, {
      what: "Temporal to record the attempt's failure",
    });
    assert.match(failure.message ?? '', /timed out: the attempt's/);
    assert.ok(failure.applicationFailureInfo && !failure.timeoutFailureInfo);
    // Both of its connections were closed when the attempt stopped: neither still talks.
    for (const sink of [primary, fallback]) {
      const session = await eventually(
        async () => (sink.sessions[0]?.closedAt ? sink.sessions[0] : undefined),
        {
          what: "the first attempt's connections to close",
        },
      );
      assert.ok(session.closedAt! - session.openedAt < ATTEMPT_TIMEOUT_MS);
    }

    fallback.stall(undefined);
    await untilStatus(herald, id, 'sent');
    assert.equal(fallback.messages.filter((m) => m.envelopeTo.includes(email)).length, 1);
    assert.equal(primary.messages.length, 0);
    const attempts = await attemptsOf(herald, id);
    assert.equal(attempts.at(-1)!.outcome, 'sent');
    assertNoOverlap(attempts);
  });
});

describe('the lease on a delivery being sent', () => {
  // No workers: the test opens the attempts itself, as the delivery activity does.
  let db: Db;
  before(() => {
    db = createDb(testEnv().databaseUrl);
  });
  after(async () => {
    await db?.$disconnect();
  });

  /** An attempt on a notification of no broadcast: its opening is never BROADCAST_CANCELLED. */
  const openPlain = async (...args: Parameters<typeof openAttempt>) => {
    const opened = await openAttempt(...args);
    assert.ok(!opened || !('broadcastCancelled' in opened), 'a notification of no broadcast');
    return opened;
  };

  async function createNotification(broadcastId?: string) {
    const user = await db.user.create({ data: { externalId: uniqueId() } });
    await db.contact.create({
      data: { userId: user.id, channel: 'email', address: `${uniqueId('lease')}@example.test` },
    });
    const notificationId = randomUUID();
    await db.notification.create({
      data: {
        id: notificationId,
        userId: user.id,
        category: 'updates',
        title: 'Leased',
        body: 'Lease test',
        workflowId: `notification-${notificationId}`,
        broadcastId,
      },
    });
    return notificationId;
  }

  /** A broadcast row (its workflow is not run here) to hang recipients' notifications on. */
  async function createBroadcast() {
    const topic = await db.topic.create({ data: { key: uniqueId('gate'), name: 'Gate' } });
    const id = randomUUID();
    await db.broadcast.create({
      data: {
        id,
        topicId: topic.id,
        category: 'updates',
        channels: ['email'],
        status: 'starting',
        snapshotSubscriptionId: 0,
        recipients: 2,
        workflowId: `broadcast-${id}`,
      },
    });
    return id;
  }

  it('refuses a second attempt while the first holds the lease, and changes nothing', async () => {
    const notificationId = await createNotification();
    const first = await openPlain(db, notificationId, 'email', 1, 60_000);
    assert.ok(first?.attemptId, 'the first attempt opened');

    const before = await snapshotTables(db);
    const second = await openPlain(db, notificationId, 'email', 2, 60_000);
    assert.equal(second?.attemptId, null, 'the second attempt did not open');
    assert.notEqual(second?.status, 'sent');
    assert.ok(
      second!.leaseRemainingMs! > 50_000 && second!.leaseRemainingMs! <= 60_000,
      `the first attempt's lease holds for its remaining time: ${second!.leaseRemainingMs} ms`,
    );
    assert.deepEqual(await snapshotTables(db), before, 'no row of any table changed');

    // The lease ends with the attempt that held it: the next attempt opens.
    const ids = { attemptId: first.attemptId, deliveryId: first.id };
    await recordFailed(db, ids, { permanent: false, reason: 'SMTP 451: try later' });
    const third = await openPlain(db, notificationId, 'email', 3, 60_000);
    assert.ok(third?.attemptId, 'the next attempt opened once the lease was released');
  });

  it('lets an attempt through once the lease has run out, and a late end never releases it', async () => {
    const notificationId = await createNotification();
    // An attempt that crashed: it never records its end, and its short lease runs out.
    const crashed = await openPlain(db, notificationId, 'email', 1, 300);
    assert.ok(crashed?.attemptId);
    const next = await eventually(
      async () => {
        const opened = await openPlain(db, notificationId, 'email', 2, 60_000);
        return opened?.attemptId ? opened : undefined;
      },
      { what: 'the crashed attempt’s lease to run out' },
    );

    // The crashed attempt's end, recorded late, does not release the lease the next attempt holds.
    await recordFailed(
      db,
      { attemptId: crashed.attemptId, deliveryId: crashed.id },
      { permanent: false, reason: 'late' },
    );
    const refused = await openPlain(db, notificationId, 'email', 3, 60_000);
    assert.equal(refused?.attemptId, null);
    const delivery = await db.delivery.findUniqueOrThrow({ where: { id: next.id } });
    assert.equal(delivery.leaseAttemptId, next.attemptId);
  });
  it("opens no attempt once the notification's broadcast is cancelled, in the statement that opens it", async () => {
    const broadcastId = await createBroadcast();
    const sent = await createNotification(broadcastId);
    const queued = await createNotification(broadcastId);
    const first = await openAttempt(db, sent, 'email', 1, 60_000);
    assert.ok(first && !('broadcastCancelled' in first) && first.attemptId, 'opens while the broadcast runs');
    await recordSent(db, { attemptId: first.attemptId, deliveryId: first.id }, 'msg-1');

    await db.broadcast.update({ where: { id: broadcastId }, data: { status: 'cancelled' } });
    const before = await snapshotTables(db);
    // Neither a delivery that exists nor one a fallback would create: nothing changes.
    assert.deepEqual(await openAttempt(db, queued, 'email', 1, 60_000), BROADCAST_CANCELLED);
    assert.deepEqual(await openAttempt(db, queued, 'sms', 1, 60_000), BROADCAST_CANCELLED);
    assert.deepEqual(await snapshotTables(db), before, 'no row of any table changed');
    // One the provider accepted before the cancel stays sent: nothing is sent again.
    const again = await openAttempt(db, sent, 'email', 2, 60_000);
    assert.ok(again && !('broadcastCancelled' in again), 'a sent delivery is read as sent');
    assert.equal(again.status, 'sent');
    assert.equal(again.attemptId, null);
  });

  it('checks a notification of no broadcast by its primary key alone, never reading broadcasts', async () => {
    const plain = await createNotification();
    const [row] = await db.$queryRaw<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>`
      EXPLAIN (ANALYZE, FORMAT JSON) SELECT ${broadcastCancelledSql(plain)}`;
    const [plan] = row!['QUERY PLAN'];
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      node.Plans?.forEach(walk);
    };
    walk(plan.Plan);
    const shown = JSON.stringify(plan.Plan);
    const notifications = nodes.filter((n) => n['Relation Name'] === 'notifications');
    assert.deepEqual(
      notifications.map((n) => n['Node Type']),
      ['Index Scan'],
      `one index lookup of the notification: ${shown}`,
    );
    for (const node of nodes.filter((n) => n['Relation Name'] === 'broadcasts'))
      assert.equal(node['Actual Loops'], 0, `the broadcasts table is not read: ${shown}`);
  });
});

describe('a retry while the attempt before it may still be sending', () => {
  let sink: SmtpSink;
  let temporalGate: TcpGate;
  let herald: RunningStack;
  let cutOff: RunningStack;
  let standIn: RunningStack | undefined;

  before(async () => {
    sink = await startSmtpSink();
    const env = { SMTP_URL: sink.url, MAIL_FROM, DELIVERY_RETRY_POLICIES: RETRY_POLICIES };
    // The workflow and the API; the email queue has its own workers.
    herald = await startHerald(testEnv(env), { queues: ['notifications'] });
    const [, temporalPort] = herald.config.temporal.address.split(':');
    temporalGate = await startTcpGate(Number(temporalPort));
    // This worker reaches Temporal only through the gate.
    cutOff = await startHerald(testEnv({ ...env, TEMPORAL_ADDRESS: `127.0.0.1:${temporalGate.port}` }), {
      queues: ['email'],
      api: false,
    });
  });
  after(async () => {
    // Reconnected, the cut-off worker can report its attempt and shut down.
    await temporalGate?.open();
    await Promise.all([herald?.stop(), cutOff?.stop(), standIn?.stop()]);
    await Promise.all([sink?.close(), temporalGate?.close()]);
  });

  it('does not send while the lease holds, though Temporal has given up on the attempt', async () => {
    sink.stall('data');
    const { email, id, handle } = await notifyByEmail(herald);
    await eventually(async () => sink.sessions.some((s) => s.rcptTo.includes(email)), {
      what: 'the first attempt to be talking to the SMTP server',
    });

    // The worker keeps its SMTP connection but no longer reaches Temporal: its heartbeats stop, and
    // Temporal hands the attempt's retry to another worker.
    await temporalGate.close();
    standIn = await startHerald(testEnv({ SMTP_URL: sink.url, MAIL_FROM }), {
      queues: ['email'],
      api: false,
    });
    const refusal = await eventually(
      async () => {
        const failure = (await pendingDelivery(handle))?.lastFailure;
        return /an earlier attempt may still be sending/.test(failure?.message ?? '') && failure;
      },
      { what: 'the retry to be refused', timeoutMs: 2 * ATTEMPT_TIMEOUT_MS },
    );
    assert.ok(refusal.applicationFailureInfo, 'refused as a retryable failure');

    // The first attempt stops, at the end of its budget or when its worker's own heartbeat timer (the
    // heartbeat timeout plus 5 s, in Temporal's SDK core) gives up on it, and records that over its own
    // database connection.
    await eventually(async () => (await attemptsOf(herald, id))[0]?.finishedAt, {
      what: 'the first attempt to end',
      timeoutMs: 2 * ATTEMPT_TIMEOUT_MS,
    });
    sink.stall(undefined);
    await eventually(async () => (await attemptsOf(herald, id)).at(-1)?.outcome === 'sent', {
      what: 'a later attempt to send',
      timeoutMs: 2 * ATTEMPT_TIMEOUT_MS,
    });

    const attempts = await attemptsOf(herald, id);
    assert.match(attempts[0]!.error ?? '', /^(timed out|stopped: the attempt was cancelled \(TIMED_OUT\))/);
    // The refused attempt left no row: Temporal's attempt numbers skip it.
    assert.ok(attempts.at(-1)!.attempt > attempts.length, `attempts ${attempts.map((a) => a.attempt)}`);
    assertNoOverlap(attempts);
    assert.equal(sink.messages.filter((m) => m.envelopeTo.includes(email)).length, 1);
    // On the wire too: each connection that carried the message closed before the next one opened.
    const sessions = sink.sessions.filter((s) => s.rcptTo.includes(email));
    for (let i = 1; i < sessions.length; i++) {
      assert.ok(sessions[i]!.openedAt >= sessions[i - 1]!.closedAt!, 'SMTP sessions overlapped');
    }
  });
});
