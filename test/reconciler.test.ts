// The reconciler: a notification recorded but never started (the API died between the two, or the start
// failed ambiguously) is started by a Temporal Schedule a minute later, once, and never one that moved on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { startApiWithoutTemporal, type ApiWithoutTemporal } from './support/api-without-temporal.js';
import { ensureReconcilerSchedule } from '../src/workers/reconciler-schedule.js';
import { RECONCILE_DEFAULTS } from '../src/workflows/reconciler.js';
import { heraldDataConverter } from '../src/platform/codec.js';
import { TEST_CODEC_ENV } from './support/codec.js';
import type { ReconcileResult } from '../src/activities/index.js';
import {
  TEST_API_KEY,
  eventually,
  terminateWorkflowsSince,
  startHerald,
  testEnv,
  uniqueId,
  type EmailStack,
} from './support/stack.js';
import { startSmtpSink } from '../tools/fakes/smtp-sink.js';

describe('reconciler', () => {
  // Not useEmailStack: this file's after() needs the stack up, and hooks run in the order they were added.
  const t = {} as EmailStack;
  const since = new Date();
  const scheduleId = uniqueId('reconciler-test');
  let deadApiUrl: string;
  let deadApi: ApiWithoutTemporal;

  before(async () => {
    t.smtp = await startSmtpSink();
    t.herald = await startHerald(
      testEnv({ SMTP_URL: t.smtp.url, MAIL_FROM: 'Herald <herald@example.test>' }),
    );
    // The API as it is while Temporal is unreachable: it records, and cannot start.
    deadApi = await startApiWithoutTemporal(t.herald.db);
    deadApiUrl = deadApi.url;
    // Paused: it runs only when this file triggers it, never under another file's workers.
    await ensureReconcilerSchedule(t.herald.temporal, { scheduleId, paused: true });
  });
  after(async () => {
    await t.herald.temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await deadApi.close();
    await terminateWorkflowsSince(t.herald.temporal, since, 'reconciler test over');
    await t.herald.stop();
    await t.smtp.close();
  });

  /** Triggers the schedule and waits for that run's result. */
  async function reconcileNow(): Promise<ReconcileResult> {
    const handle = t.herald.temporal.schedule.getHandle(scheduleId);
    const taken = (await handle.describe()).info.numActionsTaken;
    await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const run = await eventually(
      async () => {
        const info = (await handle.describe()).info;
        return info.numActionsTaken > taken && info.recentActions.at(-1)!.action.workflow;
      },
      { what: 'the schedule to start a reconciler run' },
    );
    return t.herald.temporal.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
  }

  async function createUser() {
    const email = `${uniqueId('rec')}@example.test`;
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
    assert.equal(res.status, 201);
    return { ...((await res.json()) as { id: string }), email };
  }

  /** Accepted by the API while Temporal was down: recorded, no workflow. */
  async function acceptWhileDown(userId: string, extra: Record<string, unknown> = {}) {
    const res = await fetch(`${deadApiUrl}/v1/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        userId,
        category: 'ops',
        title: 'Left behind',
        body: 'Recorded only',
        ...extra,
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as { id: string; workflowId: string };
  }

  const age = (id: string, ms: number) =>
    t.herald.db
      .$executeRaw`UPDATE notifications SET created_at = created_at - ${ms} * interval '1 millisecond'
      WHERE id = ${id}::uuid`;

  it('is a schedule every minute that starts one sweep at a time on the notifications queue', async () => {
    const description = await t.herald.temporal.schedule.getHandle(scheduleId).describe();
    assert.deepEqual(
      description.spec.intervals?.map((i) => i.every),
      [60_000],
    );
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.workflowType, 'reconcileNotificationsWorkflow');
    assert.equal(description.action.taskQueue, 'notifications');
  });

  it('makes anew a schedule it cannot read (sealed with keys it does not hold), rather than failing', async () => {
    const sealing = new Client({
      connection: t.herald.temporal.connection,
      dataConverter: heraldDataConverter(testEnv(TEST_CODEC_ENV).codec),
    });
    const id = uniqueId('sealed-reconciler');
    try {
      await ensureReconcilerSchedule(sealing, { scheduleId: id, paused: true, input: RECONCILE_DEFAULTS });
      await assert.rejects(t.herald.temporal.schedule.getHandle(id).describe(), /encoding/i);
      await ensureReconcilerSchedule(t.herald.temporal, { scheduleId: id, paused: true });
      const description = await t.herald.temporal.schedule.getHandle(id).describe();
      assert.deepEqual(description.action.type === 'startWorkflow' && description.action.args, []);
    } finally {
      await t.herald.temporal.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
  });

  it('starts a notification left unstarted for a minute, and it arrives exactly once', async () => {
    const user = await createUser();
    const left = await acceptWhileDown(user.id);
    await assert.rejects(t.herald.temporal.workflow.getHandle(left.workflowId).describe(), /not found/i);
    // Before it is started, cancel says to try again rather than "already completed".
    const cancel = await t.herald.api(`/v1/notifications/${left.id}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 503);
    assert.match(((await cancel.json()) as { detail: string }).detail, /not started yet/);

    // Younger than a minute: it may be starting right now, so the sweep leaves it.
    assert.ok(!(await reconcileNow()).started.includes(left.id));
    assert.equal(
      (await t.herald.db.notification.findUniqueOrThrow({ where: { id: left.id } })).status,
      'accepted',
    );

    await age(left.id, 2 * 60_000);
    assert.ok((await reconcileNow()).started.includes(left.id));
    await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    await eventually(
      async () =>
        (await t.herald.db.notification.findUniqueOrThrow({ where: { id: left.id } })).status === 'sent',
      { what: 'the reconciled notification to be sent' },
    );
    // Another sweep finds its run: nothing starts twice, nothing is sent twice.
    assert.ok(!(await reconcileNow()).started.includes(left.id));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 1);
  });

  it('starts a left-behind notification with its priority, its caller as fairness key', async () => {
    const user = await createUser();
    const left = await acceptWhileDown(user.id, { priority: 'high' });
    await age(left.id, 2 * 60_000);
    assert.ok((await reconcileNow()).started.includes(left.id));
    const { source } = await t.herald.db.notification.findUniqueOrThrow({ where: { id: left.id } });
    const described = await t.herald.temporal.workflow.getHandle(left.workflowId).describe();
    const priority = described.raw.workflowExecutionInfo?.priority;
    assert.equal(priority?.priorityKey, 1);
    assert.ok(source);
    assert.equal(priority?.fairnessKey, source);
    await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
  });

  it('leaves alone what moved on or is not due: started, cancelled, far-off scheduled', async () => {
    const user = await createUser();
    // Started by the live API: its run exists, so the sweep finds it and starts nothing.
    const live = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'ops', title: 'Live', body: 'Started at once', sendAt: inHours(2) },
    });
    assert.equal(live.status, 202);
    const started = (await live.json()) as { id: string };
    // Cancelled before any start (an operator's hand): must never come back.
    const cancelled = await acceptWhileDown(user.id);
    await t.herald.db.notification.update({ where: { id: cancelled.id }, data: { status: 'cancelled' } });
    // Scheduled for tomorrow: started when its time comes near, not on every sweep until then.
    const later = await acceptWhileDown(user.id, { sendAt: inHours(24) });
    for (const id of [started.id, cancelled.id, later.id]) await age(id, 2 * 60_000);

    const result = await reconcileNow();
    for (const id of [started.id, cancelled.id, later.id]) assert.ok(!result.started.includes(id), id);
    await assert.rejects(t.herald.temporal.workflow.getHandle(`notification-${cancelled.id}`).describe());
    await assert.rejects(t.herald.temporal.workflow.getHandle(`notification-${later.id}`).describe());

    // Once it is due within the lead time, it is started, and then waits for its time in the workflow.
    await t.herald.db.notification.update({
      where: { id: later.id },
      data: { sendAt: new Date(Date.now() + 60_000) },
    });
    assert.ok((await reconcileNow()).started.includes(later.id));
    const description = await t.herald.temporal.workflow.getHandle(`notification-${later.id}`).describe();
    assert.equal(description.status.name, 'RUNNING');
    await t.herald.db.notification.update({ where: { id: later.id }, data: { status: 'cancelled' } });
  });
});

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
