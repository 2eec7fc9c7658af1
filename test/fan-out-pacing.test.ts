// A campaign's pace (FAN_OUT_WINDOW): a bulk send's or broadcast's fan-out starts a recipient's workflow
// only while fewer than the window's size of those it started are still waiting for their first step.
// No worker serves the notifications queue here, so a started workflow waits until the test moves its
// row on as its first step would: what the fan-out starts, and when, is then the window's doing alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLogger } from '../src/platform/logger.js';
import { createReconcileNotifications } from '../src/activities/reconcile-notifications.js';
import type { ReconcileResult } from '../src/activities/index.js';
import { RECONCILE_DEFAULTS } from '../src/workflows/reconciler.js';
import { createStartBulkPage, type BulkPageResult } from '../src/activities/start-bulk-page.js';
import { createBroadcastActivities, type BroadcastBatchResult } from '../src/activities/broadcast.js';
import {
  eventually,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

const WINDOW = 3;

describe('a fan-out paced by its window', () => {
  let herald: RunningStack;
  const since = new Date();
  const logger = createLogger('test', 'silent');

  before(async () => {
    // Workers on the webhooks queue only: nothing runs a notification's workflow.
    herald = await startHerald(testEnv(), { queues: ['webhooks'] });
  });
  after(async () => {
    await terminateWorkflowsSince(herald.temporal, since, 'pacing test over');
    await herald.stop();
  });

  async function createUsers(count: number) {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const externalId = uniqueId('paced');
        const res = await herald.api('/v1/users', {
          json: { externalId, email: `${externalId}@example.test` },
        });
        assert.equal(res.status, 201, await res.clone().text());
        return (await res.json()) as { id: string };
      }),
    );
  }
  const content = { category: 'news', title: 'Campaign', body: 'Paced', channels: ['email'] };

  /** The notifications (of these ids) whose workflow exists: started by the fan-out. */
  async function started(ids: readonly string[]): Promise<string[]> {
    const rows = await herald.db.notification.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true, workflowId: true },
    });
    const found = await Promise.all(
      rows.map(async (row) =>
        herald.temporal.workflow
          .getHandle(row.workflowId)
          .describe()
          .then(() => row.id)
          .catch(() => undefined),
      ),
    );
    return found.filter((id): id is string => id !== undefined);
  }
  /** What a notification's first step does to its row. */
  const takeFirstStep = (ids: readonly string[]) =>
    herald.db.notification.updateMany({ where: { id: { in: [...ids] } }, data: { status: 'processing' } });
  const stays = async (ids: readonly string[], count: number, what: string) => {
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal((await started(ids)).length, count, what);
  };

  it("a bulk send's page starts a window's worth, then one more per step taken; a cancel stops it", async () => {
    const users = await createUsers(8);
    const res = await herald.api('/v1/notifications/bulk', {
      json: { recipients: users.map((u) => u.id), ...content },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const ids = ((await res.json()) as { results: { id: string }[] }).results.map((r) => r.id);
    const [bulkSend] = await herald.db.bulkSend.findMany({ where: { notificationIds: { has: ids[0]! } } });
    assert.ok(bulkSend);

    const startBulkPage = createStartBulkPage({
      db: herald.db,
      temporal: herald.temporal,
      logger,
      fanOutWindow: WINDOW,
    });
    const page = { bulkSendId: bulkSend.id, offset: 0, limit: ids.length };
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));
    const run = env.run(startBulkPage, page);
    const outcome = run.then(
      () => 'completed',
      (error: Error) => error.name,
    );

    await eventually(async () => (await started(ids)).length === WINDOW, { what: 'a window started' });
    await stays(ids, WINDOW, 'held while the window waits');
    const beatsWhileHeld = beats;
    assert.ok(beatsWhileHeld >= WINDOW + 2, `heartbeats while held (${beatsWhileHeld})`);

    // The reconciler leaves them to the fan-out while it holds its lease, however old they are.
    const reconcile = createReconcileNotifications({ db: herald.db, temporal: herald.temporal, logger });
    const swept = (await new MockActivityEnvironment().run(reconcile, {
      ...RECONCILE_DEFAULTS,
      olderThanMs: 0,
    })) as ReconcileResult;
    assert.deepEqual(
      swept.started.filter((id) => ids.includes(id)),
      [],
      'the reconciler started none of them',
    );
    await stays(ids, WINDOW, 'still held after the sweep');

    await takeFirstStep((await started(ids)).slice(0, 2));
    await eventually(async () => (await started(ids)).length === WINDOW + 2, { what: 'two more started' });
    await stays(ids, WINDOW + 2, 'two steps, two starts');

    env.cancel();
    assert.equal(await outcome, 'CancelledFailure', 'a cancelled page is not done: its retry resumes it');
    await stays(ids, WINDOW + 2, 'nothing starts after the cancel');

    // The retry, as Temporal would run it: every started one moves on, and the page finishes.
    await takeFirstStep(await started(ids));
    const result = (await new MockActivityEnvironment({ heartbeatDetails: 0 }).run(
      startBulkPage,
      page,
    )) as BulkPageResult;
    assert.equal(result.checked, ids.length);
    assert.equal(result.started, ids.length - (WINDOW + 2), 'the rest started; none twice');
    assert.equal((await started(ids)).length, ids.length);
  });

  it("a broadcast's batch starts a window's worth, then more as recipients take their first step", async () => {
    const users = await createUsers(6);
    const topic = uniqueId('paced-topic');
    assert.equal(
      (await herald.api(`/v1/topics/${topic}`, { method: 'PUT', json: { name: topic } })).status,
      201,
    );
    const subscribed = await herald.api(`/v1/topics/${topic}/subscribers`, {
      json: { users: users.map((u) => u.id) },
    });
    assert.equal(subscribed.status, 200, await subscribed.clone().text());
    const res = await herald.api('/v1/notifications', { json: { topic, ...content } });
    assert.equal(res.status, 202, await res.clone().text());
    const { id: broadcastId } = (await res.json()) as { id: string };

    const { startBroadcastBatch } = createBroadcastActivities({
      db: herald.db,
      temporal: herald.temporal,
      logger,
      fanOutWindow: 2,
    });
    const recipients = async () =>
      (await herald.db.notification.findMany({ where: { broadcastId }, select: { id: true } })).map(
        (r) => r.id,
      );
    const batch = new MockActivityEnvironment().run(startBroadcastBatch, {
      broadcastId,
      after: '0',
      limit: 500,
      startedBefore: 0,
    });

    await eventually(async () => (await started(await recipients())).length === 2, {
      what: 'two recipients started',
    });
    const ids = await recipients();
    assert.equal(ids.length, 6, 'the batch recorded every recipient at once');
    await stays(ids, 2, 'held at the window');
    await takeFirstStep(await started(ids));
    await eventually(async () => (await started(ids)).length === 4, { what: 'two more started' });
    await stays(ids, 4, 'held again');
    await takeFirstStep(await started(ids));
    const result = (await batch) as BroadcastBatchResult;
    assert.deepEqual({ count: result.count, done: result.done }, { count: 6, done: true });
    assert.equal((await started(ids)).length, 6);
  });
});
