// Cancelling a broadcast whose recipients' deliveries wait in the email queue (no email worker yet), on
// the real stack: the cancel is answered before its recipients are cancelled one by one, and after the
// answer no delivery starts, even once email has a worker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { closeChannels, createChannels } from '../src/activities/channels/registry.js';
import { createDeliveryActivities } from '../src/activities/index.js';
import { createLogger } from '../src/platform/logger.js';
import { registry } from '../src/platform/metrics.js';
import { ALL_QUEUES } from '../src/workers/create-workers.js';
import { BROADCAST_CANCELLED_TYPE } from '../src/workflows/broadcast-definitions.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { eventually, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';
import { recordHistory } from './support/histories.js';
import { cleanupEnded, openRecipients, type BroadcastView } from './support/broadcasts.js';

/** Email deliveries this process's workers counted with that outcome (the test's workers run in it). */
async function emailDeliveries(outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('herald_deliveries_total')?.get();
  return metric?.values.find((v) => v.labels.channel === 'email' && v.labels.outcome === outcome)?.value ?? 0;
}

describe('cancelling a broadcast whose deliveries wait in the email queue', () => {
  let smtp: SmtpSink;
  let herald: RunningStack;
  let emailWorker: RunningStack | undefined;
  const env = () => testEnv({ SMTP_URL: smtp.url, MAIL_FROM: 'Herald <herald@example.test>' });

  before(async () => {
    smtp = await startSmtpSink();
    // Every queue but email's: the recipients' deliveries wait there, as a large audience's do.
    herald = await startHerald(env(), { queues: ALL_QUEUES.filter((queue) => queue !== 'email') });
  });
  after(async () => {
    await emailWorker?.stop();
    await herald?.stop();
    await smtp?.close();
  });
  const api = (path: string, init?: RequestInit & { json?: unknown }) => herald.api(path, init);

  async function topicOf(count: number) {
    const users: string[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, async () => {
          const externalId = uniqueId('bc-queued');
          const res = await api('/v1/users', { json: { externalId, email: `${externalId}@example.test` } });
          assert.equal(res.status, 201, await res.clone().text());
          return ((await res.json()) as { id: string }).id;
        }),
      );
      users.push(...batch);
    }
    const key = uniqueId('queued');
    assert.equal((await api(`/v1/topics/${key}`, { method: 'PUT', json: { name: key } })).status, 201);
    for (let i = 0; i < users.length; i += 1000)
      assert.equal(
        (await api(`/v1/topics/${key}/subscribers`, { json: { users: users.slice(i, i + 1000) } })).status,
        200,
      );
    return key;
  }
  const broadcast = async (topic: string) => {
    const res = await api('/v1/notifications', {
      json: { topic, category: 'news', title: 'Hello', body: 'To everyone', channels: ['email'] },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  };
  const statusOf = async (id: string) =>
    ((await (await api(`/v1/notifications/${id}`)).json()) as BroadcastView).status;
  /** Cancels, and returns when the answer came, how many recipients were still open then, and the view. */
  async function cancel(id: string) {
    const res = await api(`/v1/notifications/${id}/cancel`, { json: { reason: 'wrong audience' } });
    const answeredAt = new Date();
    const open = await openRecipients(herald, id);
    assert.equal(res.status, 200, await res.clone().text());
    const view = (await res.json()) as BroadcastView;
    assert.equal(view.status, 'cancelled');
    return { answeredAt, open, view };
  }

  it('answers before the recipients are cancelled; after the answer no attempt opens and no email is sent, even once email has a worker', async () => {
    const key = await topicOf(600);
    const skippedBefore = await emailDeliveries('skipped');

    // Cancelled mid fan-out (two batches of 500): the broadcast's own workflow answers the cancel.
    const midway = await broadcast(key);
    await eventually(
      async () => (await herald.db.notification.count({ where: { broadcastId: midway } })) > 0,
      {
        timeoutMs: 60_000,
        what: 'the first batch of recipients to be recorded',
      },
    );
    const first = await cancel(midway);
    // Answered before the per-recipient cleanup finished: recipients were still open, each to be cancelled.
    assert.ok(first.open > 0, `recipients still open when the cancel was answered: ${first.open}`);
    assert.ok(first.view.progress.started < 600, 'the fan-out had not ended');

    // Cancelled once every recipient had started: the cleanup workflow's, after the answer too.
    const started = await broadcast(key);
    await eventually(async () => (await statusOf(started)) === 'started', {
      timeoutMs: 120_000,
      what: 'every recipient of the second broadcast to start',
    });
    const second = await cancel(started);
    assert.ok(
      second.open > 0 && second.open <= 600,
      `recipients still open when the cancel was answered: ${second.open}`,
    );

    // Now email gets a worker: the deliveries queued before the cancel reach it, and none opens.
    emailWorker = await startHerald(env(), { queues: ['email'], api: false });
    for (const id of [midway, started]) await cleanupEnded(herald, id);
    // A delivery the worker may still be trying shows up as an attempt row or an email meanwhile.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const [id, { answeredAt }] of [
      [midway, first],
      [started, second],
    ] as const) {
      const recipients = await herald.db.notification.groupBy({
        by: ['status'],
        where: { broadcastId: id },
        _count: true,
      });
      assert.deepEqual(
        recipients.map((r) => r.status),
        ['cancelled'],
        `every recipient ends cancelled: ${JSON.stringify(recipients)}`,
      );
      const attempts = await herald.db.deliveryAttempt.count({
        where: { delivery: { notification: { broadcastId: id } } },
      });
      assert.equal(
        attempts,
        0,
        `no delivery attempt opened (cancel answered at ${answeredAt.toISOString()})`,
      );
      const deliveries = await herald.db.delivery.groupBy({
        by: ['status', 'lastError'],
        where: { notification: { broadcastId: id } },
        _count: true,
      });
      assert.ok(
        deliveries.every((d) => d.status === 'cancelled'),
        `every planned delivery ends cancelled: ${JSON.stringify(deliveries)}`,
      );
      // Whichever stopped it, the check as an attempt would open (the reason recorded on the broadcast's
      // row) or the cleanup's cancel, it ends with the caller's reason.
      assert.ok(
        deliveries.every((d) => d.lastError === 'wrong audience'),
        `every planned delivery ends with the cancel's reason: ${JSON.stringify(deliveries)}`,
      );
    }
    assert.equal(smtp.messages.length, 0, 'no email reached the sink');
    assert.equal(smtp.sessions.length, 0, 'no connection was even opened');
    // A delivery stopped by its cancelled broadcast is counted `cancelled`, never `skipped` (no recipient
    // here opted out or lacks an address, and none was sent before).
    assert.equal(await emailDeliveries('skipped'), skippedBefore, 'no email delivery counted skipped');
    await deliverOnceMore(started);
    if (process.env.HERALD_RECORD_HISTORIES) await recordCancelHistories(midway, started);
  });

  /**
   * A recipient's email delivery run once more, as Temporal would run one still queued: its attempt does
   * not open, it fails as a cancelled broadcast's with the cancel's reason (what the recipient's workflow
   * ends its deliveries with), and it is counted `cancelled`, exactly once.
   */
  async function deliverOnceMore(broadcastId: string) {
    const recipient = await herald.db.notification.findFirstOrThrow({ where: { broadcastId } });
    const channels = createChannels(
      herald.config,
      { db: herald.db, logger: createLogger('test', 'silent') },
      ['email'],
    );
    const counted = {
      cancelled: await emailDeliveries('cancelled'),
      skipped: await emailDeliveries('skipped'),
    };
    try {
      const { deliverEmail } = createDeliveryActivities(herald.db, channels, { defaultLocale: 'en' });
      await assert.rejects(
        // Its expected failure is not worth the SDK's warning in the report.
        new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') }).run(
          deliverEmail!,
          {
            notificationId: recipient.id,
            channel: 'email' as const,
          },
        ),
        (error: Error & { type?: string }) =>
          error.type === BROADCAST_CANCELLED_TYPE && error.message === 'wrong audience',
      );
    } finally {
      await closeChannels(channels);
    }
    assert.deepEqual(
      { cancelled: await emailDeliveries('cancelled'), skipped: await emailDeliveries('skipped') },
      { cancelled: counted.cancelled + 1, skipped: counted.skipped },
      'counted as cancelled',
    );
  }

  /**
   * Replay fixtures (`HERALD_RECORD_HISTORIES=1 npx tsx test/run.ts test/broadcast-cancel.test.ts`): the
   * broadcast cancelled midway, and a recipient stopped by each check, at its delivery attempt and at its
   * resolve (its history has no cancel update: the check alone ended it).
   */
  async function recordCancelHistories(midway: string, started: string) {
    const handle = (workflowId: string) => herald.temporal.workflow.getHandle(workflowId);
    await recordHistory(handle(`broadcast-${midway}`), 'broadcast-cancelled-midway');
    const { EventType } = proto.temporal.api.enums.v1;
    const untouched = async (workflowId: string) =>
      !(await handle(workflowId).fetchHistory()).events?.some(
        (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      );
    // Planned deliveries, and no cancel update in the history: the attempt's check ended it.
    const atAttempt = await herald.db.notification.findMany({
      where: { broadcastId: started, deliveries: { some: {} } },
    });
    // Most recipients without deliveries got the cleanup's cancel before they resolved: look further.
    const atResolve = await herald.db.notification.findMany({
      where: { broadcastId: { in: [midway, started] }, deliveries: { none: {} } },
    });
    for (const [candidates, name] of [
      [atAttempt, 'broadcast-recipient-stopped-at-attempt'],
      [atResolve, 'broadcast-recipient-stopped-at-resolve'],
    ] as const)
      for (const { workflowId } of candidates)
        if (await untouched(workflowId)) {
          await recordHistory(handle(workflowId), name);
          break;
        }
  }
});
