// A flow's digest step (docs/flows.md) on the real dev server with windows of a few seconds: one digest per
// (user, flow, key, window) however many notifications arrive at once, `max`, and the next window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useFlowStack } from './support/flow-stack.js';
import { recordHistory } from './support/histories.js';
import { eventually, uniqueId } from './support/stack.js';
import { NOTIFICATIONS_QUEUE, statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import { digestWorkflowIdFor } from '../src/activities/flows.js';
import { digestItemSignal, digestStatusQuery, digestWorkflow } from '../src/workflows/flows/digest.js';

describe('flow digests', () => {
  const { stack, putFlow, notify, view, settled, mailsTo, flowUser } = useFlowStack();
  const digestFlow = async (step: Record<string, unknown>) => {
    const key = uniqueId('digest');
    const res = await putFlow(key, {
      steps: [
        { type: 'digest', window: '5s', ...step },
        { type: 'send', channels: ['email'] },
      ],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return key;
  };
  const cancelByKey = async (cancellationKey: string) => {
    const res = await stack.herald.api('/v1/notifications/cancel', { json: { cancellationKey } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { cancelled: number; withdrawnFromDigests: number };
  };

  it('collects 10 notifications of a 5 s window into one email listing all 10 titles', async () => {
    const key = await digestFlow({});
    const user = await flowUser();
    const ids: string[] = [];
    for (let i = 1; i <= 10; i++) {
      ids.push((await notify({ userId: user.id, flow: key, title: `Comment ${i}` })).id);
      await new Promise((r) => setTimeout(r, 150));
    }
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 20_000);
    const lines = (mail.parsed.text ?? '').trim().split('\n');
    assert.deepEqual(
      lines,
      ids.map((_, i) => `• Comment ${i + 1}`),
    );
    assert.equal(mail.parsed.subject, '10 new notifications');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(mailsTo(user.email).length, 1);
    // Each one ended digested, naming the digest notification it went into.
    const joined = await eventually(async () => {
      const views = await Promise.all(ids.map(view));
      return views.every((v) => v.status === 'digested' && v.digest?.notificationId) && views;
    });
    const digestIds = new Set(joined.map((v) => v.digest!.notificationId));
    assert.equal(digestIds.size, 1);
    const digest = await settled([...digestIds][0]!, 'sent');
    assert.deepEqual(digest.flow, { key, version: 1 });
    const data = (await stack.herald.db.notification.findUniqueOrThrow({ where: { id: [...digestIds][0]! } }))
      .data as { items: { title: string }[] };
    assert.equal(data.items.length, 10);
    await recordHistory(
      stack.herald.temporal.workflow.getHandle(workflowIdFor([...digestIds][0]!)),
      'flow-digest-notification',
    );
    await recordHistory(
      stack.herald.temporal.workflow.getHandle(joined[0]!.digest!.workflowId),
      'flow-digest',
    );
  });

  it('makes one digest of 10 notifications started at the same instant', async () => {
    const key = await digestFlow({});
    const user = await flowUser();
    const ids = (
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => notify({ userId: user.id, flow: key, title: `Same ${i}` })),
      )
    ).map((n) => n.id);
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 20_000);
    assert.equal(mail.parsed.subject, '10 new notifications');
    await new Promise((r) => setTimeout(r, 6_000));
    assert.equal(mailsTo(user.email).length, 1, 'one digest, not two');
    const views = await Promise.all(ids.map(view));
    assert.equal(new Set(views.map((v) => v.digest?.notificationId)).size, 1);
  });

  it('sends after the third item with max: 3, and the fourth opens the next window', async () => {
    const key = await digestFlow({ max: 3, window: '1h' });
    const user = await flowUser();
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++)
      ids.push((await notify({ userId: user.id, flow: key, title: `Max ${i}` })).id);
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 15_000);
    assert.ok(Date.now() - started < 10_000, 'sent on the third item, not after the 1 h window');
    assert.equal(mail.parsed.subject, '3 new notifications');
    // The first three to reach the digest went in (not necessarily in the order accepted); the other waits.
    const views = await eventually(async () => {
      const all = await Promise.all(ids.map(view));
      return all.every((v) => v.digest) && all;
    });
    const waiting = views.filter((v) => v.digest!.notificationId === null);
    assert.equal(waiting.length, 1);
    assert.doesNotMatch(mail.parsed.text ?? '', new RegExp(`${waiting[0]!.title}$`, 'm'));
    const fourth = waiting[0]!.digest!;
    const next = stack.herald.temporal.workflow.getHandle(fourth.workflowId);
    const open = await eventually(async () => {
      const s = await next.query<{ items: number; windowEnd?: string }>('digestStatus');
      return s.items === 1 && s.windowEnd !== undefined && s;
    });
    assert.ok(Date.parse(open.windowEnd!) > Date.now() + 50 * 60_000, 'the next window runs its hour');
    await next.terminate('test over');
  });

  it('keeps one digest per key from data', async () => {
    const key = await digestFlow({ key: 'project' });
    const user = await flowUser();
    await Promise.all([
      notify({ userId: user.id, flow: key, title: 'A1', data: { project: 'a' } }),
      notify({ userId: user.id, flow: key, title: 'B1', data: { project: 'b' } }),
      notify({ userId: user.id, flow: key, title: 'A2', data: { project: 'a' } }),
    ]);
    await eventually(async () => mailsTo(user.email).length === 2, { timeoutMs: 20_000 });
    const subjects = mailsTo(user.email).map((m) => m.parsed.text ?? '');
    assert.ok(subjects.some((t) => t.includes('A1') && t.includes('A2') && !t.includes('B1')));
  });

  it('continues as new while a long digest collects, and loses no item', async () => {
    const key = await digestFlow({ window: '12s' });
    const user = await flowUser();
    // The digest workflow started ahead with a low history limit; the notifications join it as usual.
    const workflowId = digestWorkflowIdFor(user.id, { key, version: 1 }, '');
    await stack.herald.temporal.workflow.signalWithStart(digestWorkflow, {
      workflowId,
      taskQueue: NOTIFICATIONS_QUEUE,
      args: [
        {
          userId: user.id,
          category: 'updates',
          flow: { key, version: 1, startStep: 1 },
          step: { type: 'digest', window: '12s' },
          historyLimit: 40,
        },
      ],
      signal: digestItemSignal,
      // No such notification: the digest finds no row for it and leaves it out.
      signalArgs: [{ notificationId: '00000000-0000-4000-8000-000000000000' }],
    });
    const first = (await stack.herald.temporal.workflow.getHandle(workflowId).describe()).runId;
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++)
      ids.push(
        ...(
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              notify({ userId: user.id, flow: key, title: `Long ${batch * 10 + i}` }),
            ),
          )
        ).map((n) => n.id),
      );
    // Every item reached an email exactly once, whether its window was the first or the next.
    const titles = await eventually(
      async () => {
        const listed = mailsTo(user.email).flatMap((m) => (m.parsed.text ?? '').trim().split('\n'));
        return listed.length >= 60 && listed;
      },
      { timeoutMs: 90_000, what: '60 digested titles' },
    );
    assert.deepEqual([...titles].sort(), Array.from({ length: 60 }, (_, i) => `• Long ${i}`).sort());
    const firstRun = await stack.herald.temporal.workflow.getHandle(workflowId, first).describe();
    assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');
  });

  it('no longer counts items withdrawn by a cancellation key toward max, nor lists them', async () => {
    const key = await digestFlow({ max: 3, window: '1h' });
    const user = await flowUser();
    const cancellationKey = uniqueId('thread');
    const gone = await Promise.all(
      [1, 2].map((i) => notify({ userId: user.id, flow: key, title: `Gone ${i}`, cancellationKey })),
    );
    const digest = stack.herald.temporal.workflow.getHandle(
      digestWorkflowIdFor(user.id, { key, version: 1 }, ''),
    );
    // Not found until the first item's signal-with-start started it.
    const itemsIn = () =>
      digest.query(digestStatusQuery).then(
        ({ items }) => items,
        () => -1,
      );
    await eventually(async () => (await itemsIn()) === 2);
    assert.deepEqual(await cancelByKey(cancellationKey), {
      cancellationKey,
      cancelled: 0,
      withdrawnFromDigests: 2,
    });
    await eventually(async () => (await itemsIn()) === 0, {
      what: 'the withdrawn items to leave the window',
    });
    assert.deepEqual(
      (await Promise.all(gone.map((n) => view(n.id)))).map((v) => v.status),
      ['cancelled', 'cancelled'],
    );
    // Three more items fill the window: one digest of exactly those three, well before the hour.
    for (let i = 1; i <= 3; i++) await notify({ userId: user.id, flow: key, title: `Kept ${i}` });
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 15_000);
    assert.equal(mail.parsed.subject, '3 new notifications');
    assert.deepEqual((mail.parsed.text ?? '').trim().split('\n'), ['• Kept 1', '• Kept 2', '• Kept 3']);
    await recordHistory(digest, 'flow-digest-withdrawn');
  });

  it("carries its items' one cancellation key to the digest notification, which the key then cancels", async () => {
    const key = uniqueId('digest');
    const res = await putFlow(key, {
      steps: [
        { type: 'digest', window: '2s' },
        { type: 'delay', duration: '1h' },
        { type: 'send', channels: ['email'] },
      ],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const shared = await flowUser();
    const mixed = await flowUser();
    const cancellationKey = uniqueId('ticket');
    const items = await Promise.all([
      notify({ userId: shared.id, flow: key, title: 'Shared 1', cancellationKey }),
      notify({ userId: shared.id, flow: key, title: 'Shared 2', cancellationKey }),
      notify({ userId: mixed.id, flow: key, title: 'Mixed 1', cancellationKey }),
      notify({ userId: mixed.id, flow: key, title: 'Mixed 2' }),
    ]);
    // Both windows closed: each digest notification rests in its hour's delay.
    const [sharedDigest, mixedDigest] = await eventually(async () => {
      const views = await Promise.all(items.map((n) => view(n.id)));
      return (
        views.every((v) => v.digest?.notificationId) && [0, 2].map((i) => views[i]!.digest!.notificationId!)
      );
    });
    const handles = [sharedDigest!, mixedDigest!].map((id) =>
      stack.herald.temporal.workflow.getHandle(workflowIdFor(id)),
    );
    for (const handle of handles)
      await eventually(async () => (await handle.query(statusQuery)).flowStep?.type === 'delay');
    const keyOf = async (id: string) =>
      ((await view(id)) as unknown as { cancellationKey: string | null }).cancellationKey;
    assert.equal(await keyOf(sharedDigest!), cancellationKey);
    assert.equal(await keyOf(mixedDigest!), null, 'items with different keys: the digest carries none');

    assert.deepEqual(await cancelByKey(cancellationKey), {
      cancellationKey,
      cancelled: 1,
      withdrawnFromDigests: 0,
    });
    await settled(sharedDigest!, 'cancelled');
    assert.equal((await handles[1]!.query(statusQuery)).state, 'waiting', 'the mixed digest goes on');
    await handles[1]!.terminate('test over');
    assert.equal(mailsTo(shared.email).length, 0);
  });
});
