// History retention on real PostgreSQL and Temporal: the `herald-history-retention` schedule's workflow
// removes notifications that ended longer ago than HISTORY_RETENTION (400 days by default) with their
// deliveries, attempts, inbox message and webhook records, in bounded batches, never one that has not
// ended or ended recently, and never waiting for a row a writer holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import pg from 'pg';
import type { PruneHistoryInput, PruneHistoryResult } from '../src/activities/prune-history.js';
import { ensureHistoryRetentionSchedule } from '../src/workers/history-retention-schedule.js';
import { eventually, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

describe('history retention', () => {
  let herald: RunningStack;
  const schedules: string[] = [];

  before(async () => {
    // The default HISTORY_RETENTION (400 days) applies: nothing is delivered here.
    herald = await startHerald(testEnv(), { queues: ['notifications'] });
  });
  after(async () => {
    for (const id of schedules)
      await herald?.temporal.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await herald?.stop();
  });

  /** One run of the schedule's workflow, as the hourly schedule would start it. */
  async function runRetention(input?: PruneHistoryInput): Promise<PruneHistoryResult> {
    const scheduleId = uniqueId('history-retention-test');
    schedules.push(scheduleId);
    await ensureHistoryRetentionSchedule(herald.temporal, { scheduleId, paused: true, input });
    const schedule = herald.temporal.schedule.getHandle(scheduleId);
    const described = await schedule.describe();
    assert.equal(described.spec.intervals?.[0]?.every, 3_600_000, 'every hour');
    await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const run = await eventually(
      async () => (await schedule.describe()).info.recentActions.at(-1)?.action.workflow,
      { what: 'the schedule to start a retention run' },
    );
    return herald.temporal.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
  }

  /** A notification with two deliveries of two attempts each, created and ended when given. */
  async function notification(
    userId: string,
    status:
      | 'accepted'
      | 'scheduled'
      | 'deferred'
      | 'processing'
      | 'sent'
      | 'partially_sent'
      | 'failed'
      | 'skipped'
      | 'cancelled',
    createdAt: Date,
    completedAt: Date | null,
  ): Promise<string> {
    const id = crypto.randomUUID();
    await herald.db.notification.create({
      data: {
        id,
        userId,
        category: 'retention',
        title: 'Old news',
        body: 'Kept for audit',
        channels: ['email', 'sms'],
        status,
        workflowId: `notification-${id}`,
        createdAt,
        completedAt,
        deliveries: {
          create: (['email', 'sms'] as const).map((channel) => ({
            channel,
            status: 'sent' as const,
            attempts: 2,
            createdAt,
            attemptLog: {
              create: [
                {
                  attempt: 1,
                  startedAt: createdAt,
                  outcome: 'transient_failure' as const,
                  error: 'SMTP 451',
                },
                { attempt: 2, startedAt: createdAt, outcome: 'sent' as const },
              ],
            },
          })),
        },
      },
    });
    return id;
  }

  const remaining = async (ids: string[]) => ({
    notifications: await herald.db.notification.count({ where: { id: { in: ids } } }),
    deliveries: await herald.db.delivery.count({ where: { notificationId: { in: ids } } }),
    attempts: await herald.db.deliveryAttempt.count({ where: { delivery: { notificationId: { in: ids } } } }),
  });

  it('removes what ended before HISTORY_RETENTION, with its rows, in bounded batches; keeps the rest', async () => {
    const user = await herald.db.user.create({ data: { externalId: uniqueId('retention') } });
    const old = daysAgo(401);
    const expired: string[] = [];
    const outcomes = [
      ...Array<'sent'>(15).fill('sent'),
      ...Array<'failed'>(4).fill('failed'),
      ...Array<'partially_sent'>(3).fill('partially_sent'),
      'skipped',
      'skipped',
      'cancelled',
    ] as const;
    for (const status of outcomes) expired.push(await notification(user.id, status, old, daysAgo(400.5)));
    const kept = {
      // Not ended, however old: its workflow may still act on it.
      unfinished: await Promise.all(
        (['accepted', 'scheduled', 'deferred', 'processing'] as const).map((s) =>
          notification(user.id, s, old, null),
        ),
      ),
      // Accepted long ago but ended within the retention (sent at a far-off sendAt).
      endedRecently: await notification(user.id, 'sent', old, daysAgo(3)),
      // Within the retention.
      recent: await notification(user.id, 'sent', daysAgo(399), daysAgo(399)),
    };
    const keptIds = [...kept.unfinished, kept.endedRecently, kept.recent];

    // What else hangs on an expired notification: its inbox message (a foreign key) and its status
    // webhook's record (none: the audit is by id), both to go with it.
    await herald.db.inboxMessage.create({
      data: {
        userId: user.id,
        notificationId: expired[0]!,
        seq: 1,
        category: 'retention',
        title: 't',
        body: 'b',
      },
    });
    const endpoint = await herald.db.webhookEndpoint.create({
      data: {
        owner: 'env-test',
        url: 'https://example.test/hook',
        secret: 's',
        events: ['notification.sent'],
      },
    });
    await herald.db.webhookDelivery.createMany({
      data: [expired[0]!, kept.recent].map((notificationId) => ({
        endpointId: endpoint.id,
        eventId: `evt-${notificationId}`,
        eventType: 'notification.sent',
        notificationId,
        status: 'delivered' as const,
      })),
    });
    assert.deepEqual(await remaining(expired), { notifications: 25, deliveries: 50, attempts: 100 });

    // A writer holds one expired notification's row: the run passes it by instead of waiting.
    const writer = new pg.Client({ connectionString: herald.config.databaseUrl });
    await writer.connect();
    const held = expired.at(-1)!;
    try {
      await writer.query('BEGIN');
      await writer.query('SELECT id FROM notifications WHERE id = $1 FOR UPDATE', [held]);

      const first = await runRetention({ batchSize: 10, maxPerRun: 20 });
      assert.equal(first.removed, 20, JSON.stringify(first));
      assert.ok(first.largestBatch <= 10 && first.batches >= 2, JSON.stringify(first));

      const second = await runRetention({ batchSize: 10 });
      assert.deepEqual(
        second,
        { removed: 4, batches: 2, largestBatch: 2, earlyReceiptsRemoved: 0 },
        'all but the held one',
      );
      assert.equal(await herald.db.notification.count({ where: { id: held } }), 1);
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }
    // With no input: the worker's own HISTORY_RETENTION (400 days) and batch size.
    const third = await runRetention();
    assert.deepEqual(third, { removed: 1, batches: 1, largestBatch: 1, earlyReceiptsRemoved: 0 });

    assert.deepEqual(await remaining(expired), { notifications: 0, deliveries: 0, attempts: 0 });
    assert.equal(await herald.db.inboxMessage.count({ where: { notificationId: expired[0]! } }), 0);
    assert.deepEqual(
      (await herald.db.webhookDelivery.findMany({ where: { endpointId: endpoint.id } })).map(
        (w) => w.notificationId,
      ),
      [kept.recent],
    );
    assert.deepEqual(await remaining(keptIds), { notifications: 6, deliveries: 12, attempts: 24 });
    assert.equal(await herald.db.user.count({ where: { id: user.id } }), 1, 'the user stays');
  });

  it('keeps 400 days by default', () => {
    assert.equal(testEnv().history.retentionMs, 400 * DAY_MS);
    assert.equal(testEnv({ HISTORY_RETENTION: '90d' }).history.retentionMs, 90 * DAY_MS);
    assert.throws(() => testEnv({ HISTORY_RETENTION: 'forever' }), /HISTORY_RETENTION/);
  });
});
