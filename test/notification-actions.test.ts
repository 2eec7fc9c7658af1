// Cancel and retry through the API (which sends the workflow's updates), and duplicate suppression:
// a delivery already recorded as sent is never sent again, whoever runs its activity again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createChannels, closeChannels } from '../src/activities/channels/registry.js';
import { createDeliveryActivities, type DeliveryResult } from '../src/activities/index.js';
import { createLogger } from '../src/platform/logger.js';
import { eventually, notificationStatus, uniqueId, untilStatus, useEmailStack } from './support/stack.js';

describe('cancel and retry through the API', () => {
  const t = useEmailStack({ DELIVERY_RETRY_POLICIES: '{"email":{"initialInterval":"200ms"}}' });

  async function userWithEmail() {
    const email = `${uniqueId('act')}@example.test`;
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
    return { id: ((await res.json()) as { id: string }).id, email };
  }
  async function notify(userId: string, extra: Record<string, unknown> = {}) {
    const res = await t.herald.api('/v1/notifications', {
      json: { userId, category: 'updates', title: 'Hi', body: 'Action test', channels: ['email'], ...extra },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }
  const statusOf = (id: string) => notificationStatus(t.herald, id);
  const until = (id: string, status: string) => untilStatus(t.herald, id, status);

  it('retries a failed delivery when asked, and delivers it', async () => {
    const user = await userWithEmail();
    t.smtp.failNext(550, 1);
    const id = await notify(user.id);
    await until(id, 'failed');

    const res = await t.herald.api(`/v1/notifications/${id}/retry`, { method: 'POST' });
    assert.equal(res.status, 202, await res.clone().text());
    const body = (await res.json()) as { state: string; retries: number };
    assert.equal(body.retries, 1);
    await until(id, 'sent');
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 1);
    const delivery = await t.herald.db.delivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(delivery.attempts, 2);

    // Sent and closed: nothing left to retry.
    const again = await t.herald.api(`/v1/notifications/${id}/retry`, { method: 'POST' });
    assert.equal(again.status, 409);
    assert.equal(again.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await again.json()) as { type: string }).type, 'https://herald.dev/problems/cannot-retry');
  });

  it('cancels a scheduled notification once; a second cancel is refused with 409', async () => {
    const user = await userWithEmail();
    const id = await notify(user.id, { sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    await eventually(
      async () =>
        (await t.herald.temporal.workflow.getHandle(`notification-${id}`).describe()).searchAttributes
          .DeliveryStatus?.[0] === 'scheduled',
      { what: 'the workflow to be scheduled' },
    );
    const res = await t.herald.api(`/v1/notifications/${id}/cancel`, { json: { reason: 'event moved' } });
    assert.equal(res.status, 200, await res.clone().text());
    await until(id, 'cancelled');
    const again = await t.herald.api(`/v1/notifications/${id}/cancel`, { json: {} });
    assert.equal(again.status, 409);
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 0);
  });

  it('answers 404 for an unknown notification and 422 for a bad id or body, changing nothing', async () => {
    const unknown = await t.herald.api('/v1/notifications/00000000-0000-4000-8000-000000000000/cancel', {
      method: 'POST',
    });
    assert.equal(unknown.status, 404);
    const badId = await t.herald.api('/v1/notifications/not-a-uuid/retry', { method: 'POST' });
    assert.equal(badId.status, 422);
    const user = await userWithEmail();
    const id = await notify(user.id, { sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    const badBody = await t.herald.api(`/v1/notifications/${id}/cancel`, {
      json: { reason: 7, extra: true },
    });
    assert.equal(badBody.status, 422);
    assert.equal(await statusOf(id), 'scheduled');
    await t.herald.api(`/v1/notifications/${id}/cancel`, { json: {} });
  });
});

describe('a repeated Idempotency-Key', () => {
  const t = useEmailStack();

  const runsOf = async (workflowId: string) => {
    const runs: string[] = [];
    for await (const run of t.herald.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
      runs.push(run.runId);
    return runs;
  };
  /**
   * A notification whose run Temporal has forgotten, as its retention does some days after the run
   * ended: a copy of `id`'s row under another Idempotency-Key, with a workflow id no run ever had.
   */
  const forgotten = async (id: string, key: string, ghostKey: string) => {
    const {
      id: _,
      workflowId: __,
      data,
      idempotencyKey,
      flowTrace: ___,
      ...row
    } = await t.herald.db.notification.findUniqueOrThrow({ where: { id } });
    const ghost = crypto.randomUUID();
    await t.herald.db.notification.create({
      data: {
        ...row,
        data: data as object,
        id: ghost,
        workflowId: `notification-${ghost}`,
        idempotencyKey: idempotencyKey!.slice(0, -key.length) + ghostKey,
      },
    });
    return { id: ghost, workflowId: `notification-${ghost}` };
  };
  const noRun = async (workflowId: string) => {
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await runsOf(workflowId), [], 'no run');
    await assert.rejects(t.herald.temporal.workflow.getHandle(workflowId).describe());
  };

  it('never revives a cancelled or finished notification, even after Temporal forgot its run', async () => {
    const email = `${uniqueId('idem')}@example.test`;
    const user = await t.herald.db.user.create({
      data: { externalId: uniqueId(), contacts: { create: { channel: 'email', address: email } } },
    });
    const post = (key: string, extra: Record<string, unknown> = {}) =>
      t.herald.api('/v1/notifications', {
        headers: { 'idempotency-key': key },
        json: {
          userId: user.id,
          category: 'updates',
          title: 'Once',
          body: 'Only once',
          channels: ['email'],
          ...extra,
        },
      });
    const accepted = async (res: Response) => {
      assert.equal(res.status, 202, await res.clone().text());
      return (await res.json()) as { id: string; status: string; workflowId: string };
    };

    // Cancelled before it was due.
    const cancelKey = uniqueId('cancel');
    const later = { sendAt: new Date(Date.now() + 3_600_000).toISOString() };
    const first = await accepted(await post(cancelKey, later));
    const cancel = await t.herald.api(`/v1/notifications/${first.id}/cancel`, { json: {} });
    assert.equal(cancel.status, 200, await cancel.clone().text());
    await untilStatus(t.herald, first.id, 'cancelled');
    const handle = t.herald.temporal.workflow.getHandle(first.workflowId);
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', {
      what: 'the run to end',
    });
    const runs = await runsOf(first.workflowId);
    assert.equal(runs.length, 1);

    const repeat = await accepted(await post(cancelKey, later));
    assert.deepEqual(repeat, { ...first, status: 'cancelled' }, 'the first notification, as it is now');
    assert.deepEqual(await runsOf(first.workflowId), runs, 'no new run');

    const ghostKey = uniqueId('cancel-forgotten');
    const ghost = await forgotten(first.id, cancelKey, ghostKey);
    const afterRetention = await accepted(await post(ghostKey, later));
    assert.deepEqual(afterRetention, { ...ghost, status: 'cancelled' });
    await noRun(ghost.workflowId);
    assert.equal(await notificationStatus(t.herald, ghost.id), 'cancelled');

    // Sent.
    const sentKey = uniqueId('sent');
    const sent = await accepted(await post(sentKey));
    await untilStatus(t.herald, sent.id, 'sent');
    await t.smtp.waitFor((m) => m.envelopeTo.includes(email));
    const sentRuns = await runsOf(sent.workflowId);
    assert.equal(sentRuns.length, 1);
    assert.deepEqual(await accepted(await post(sentKey)), { ...sent, status: 'sent' });
    assert.deepEqual(await runsOf(sent.workflowId), sentRuns);
    const sentGhostKey = uniqueId('sent-forgotten');
    const sentGhost = await forgotten(sent.id, sentKey, sentGhostKey);
    assert.deepEqual(await accepted(await post(sentGhostKey)), { ...sentGhost, status: 'sent' });
    await noRun(sentGhost.workflowId);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(email)).length, 1, 'sent once');
    assert.equal(await t.herald.db.notification.count({ where: { userId: user.id } }), 4);
  });
});

describe('duplicate suppression', () => {
  const t = useEmailStack();

  it('never sends a delivery again once it is recorded as sent (activity retry, crash after recording, replay)', async () => {
    const email = `${uniqueId('dup')}@example.test`;
    const user = await t.herald.db.user.create({
      data: { externalId: uniqueId(), contacts: { create: { channel: 'email', address: email } } },
    });
    const res = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'updates', title: 'Once', body: 'Only once', channels: ['email'] },
    });
    const { id } = (await res.json()) as { id: string };
    await t.smtp.waitFor((m) => m.envelopeTo.includes(email));
    await eventually(
      async () => (await t.herald.db.notification.findUnique({ where: { id } }))?.status === 'sent',
    );

    // The same activity run again, as Temporal would after a lost completion: a later attempt number.
    const channels = createChannels(
      t.herald.config,
      { db: t.herald.db, logger: createLogger('test', 'silent') },
      ['email'],
    );
    try {
      const { deliverEmail } = createDeliveryActivities(t.herald.db, channels, { defaultLocale: 'en' });
      const env = new MockActivityEnvironment({ attempt: 2 });
      const result: DeliveryResult = await env.run(deliverEmail!, {
        notificationId: id,
        channel: 'email' as const,
      });
      assert.equal(result.alreadySent, true);
    } finally {
      await closeChannels(channels);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(email)).length, 1);
    const delivery = await t.herald.db.delivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(delivery.attempts, 1);
  });
});
