// The in-app inbox end to end: the in_app channel stores what POST /v1/notifications sends (templates,
// locales and preferences apply, storing twice stores once), the feed pages and filters it, marks change
// the counts and are recorded on the delivery, reads and clicks reach the notification's workflow as a
// signal (and a closed workflow does not fail the read), and retention removes old read messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { createInAppChannel } from '../src/activities/channels/in-app/index.js';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import { ensureInboxRetentionSchedule } from '../src/workers/inbox-retention-schedule.js';
import type { PruneInboxResult } from '../src/activities/index.js';
import { freePort } from '../tools/local-stack/ports.js';
import { inboxClient, inboxEnv } from './support/inbox.js';
import { preferenceClient } from './support/preference-center.js';
import {
  eventually,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

describe('the in-app inbox', () => {
  const since = new Date();
  const scheduleId = uniqueId('inbox-retention-test');
  let herald: RunningStack;
  const c = inboxClient(() => herald);
  const n = preferenceClient(() => herald);

  before(async () => {
    // Email goes to a port nobody listens on: its deliveries retry, which keeps a workflow open.
    herald = await startHerald(
      testEnv({
        ...inboxEnv(),
        SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
        MAIL_FROM: 'h@example.test',
      }),
    );
  });
  after(async () => {
    await herald?.temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    if (herald) await terminateWorkflowsSince(herald.temporal, since, 'inbox test over');
    await herald?.stop();
  });

  it('stores a notification for its user: title, body, link, buttons, category and data; sent once stored', async () => {
    const { user, token } = await c.reader();
    const actions = [
      { id: 'approve', label: 'Approve', url: 'https://app.example.test/approve/7' },
      { id: 'later', label: 'Later' },
    ];
    const id = await c.notify(user.id, {
      category: 'orders',
      title: 'Order 7 shipped',
      body: 'It is on its way.',
      data: { url: '/orders/7', actions, orderId: 7 },
    });
    const item = await c.stored(token, 'Order 7 shipped');
    assert.deepEqual(
      { ...item, id: undefined, createdAt: undefined },
      {
        id: undefined,
        title: 'Order 7 shipped',
        body: 'It is on its way.',
        url: '/orders/7',
        actions,
        category: 'orders',
        data: { url: '/orders/7', actions, orderId: 7 },
        createdAt: undefined,
        seenAt: null,
        readAt: null,
        archivedAt: null,
        ackRequested: false,
        acknowledgedAt: null,
      },
    );
    const view = await n.settled(id);
    assert.equal(view.status, 'sent');
    const delivery = view.deliveries.find((d) => d.channel === 'in_app') as unknown as Record<
      string,
      unknown
    >;
    assert.equal(delivery.status, 'sent');
    assert.equal(delivery.providerMessageId, item.id);
    assert.deepEqual(await c.counts(token), { unread: 1, unseen: 1 });
  });

  it("applies templates in the user's locale, and preferences", async () => {
    const template = uniqueId('inbox-tpl').toLowerCase();
    for (const [locale, title] of [
      ['en', 'Hello {{name}}'],
      ['de', 'Hallo {{name}}'],
    ]) {
      const res = await herald.api(`/v1/templates/${template}/${locale}`, {
        method: 'PUT',
        json: { title, body: 'Body for {{name}}' },
      });
      assert.ok(res.ok, await res.text());
    }
    const { user, token } = await c.reader({ locale: 'de' });
    await c.notify(user.id, { title: undefined, body: undefined, template, data: { name: 'Ada' } });
    const item = await c.stored(token, 'Hallo Ada');
    assert.equal(item.body, 'Body for Ada');

    const optedOut = await c.reader();
    const rules = [{ category: '*', channel: 'in_app', enabled: false }];
    const put = await herald.api(`/v1/users/${optedOut.user.id}/preferences`, {
      method: 'PUT',
      json: { rules, quietHours: null },
    });
    assert.equal(put.status, 200, await put.text());
    const skipped = await n.settled(await c.notify(optedOut.user.id, { title: 'Not for the inbox' }));
    assert.equal(skipped.status, 'skipped');
    assert.deepEqual((await c.feed(optedOut.token)).items, []);
  });

  it('refuses a link that is not http(s) or a path, for good, with the reason', async () => {
    const { user, token } = await c.reader();
    const id = await c.notify(user.id, { data: { url: 'javascript:alert(1)' } });
    const view = await n.settled(id);
    assert.equal(view.status, 'failed');
    assert.match(view.deliveries[0]!.lastError ?? '', /data\.url must be an http\(s\) URL or a path/);
    assert.equal(view.deliveries[0]!.attempts, 1);
    assert.deepEqual((await c.feed(token)).items, []);
  });

  it('stores once per notification, however often (or however concurrently) the delivery runs', async () => {
    const { user, token } = await c.reader();
    // Scheduled far ahead: the worker leaves it alone, and this test plays the retried activity.
    const id = await c.notify(user.id, { title: 'Once', sendAt: '2099-01-01T00:00:00Z' });
    const provider = createInAppChannel(herald.db);
    const recipient = { id: user.id, locale: 'en', linkVersion: 0, contacts: {}, pushSubscriptions: [] };
    const message = { notificationId: id, category: 'updates', title: 'Once', body: 'A message.', data: {} };
    const sent = await Promise.all(Array.from({ length: 5 }, () => provider.send(recipient, message)));
    assert.equal(new Set(sent.map((s) => s.providerMessageId)).size, 1);
    const again = await provider.send(recipient, { ...message, title: 'Twice' });
    assert.equal(again.providerMessageId, sent[0]!.providerMessageId);
    assert.deepEqual(
      (await c.feed(token)).items.map((i) => i.title),
      ['Once'],
    );
  });

  it('pages the feed newest first, filters it, and marks messages seen, read, unread and archived', async () => {
    const { user, token } = await c.reader();
    // One after the other: the feed's order is the order the worker stored them in.
    for (let i = 1; i <= 5; i++) {
      await c.notify(user.id, { title: `Message ${i}` });
      await c.stored(token, `Message ${i}`);
    }

    const titles: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await c.feed(token, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      titles.push(...page.items.map((i) => i.title));
      cursor = page.nextCursor;
    }
    assert.deepEqual(titles, ['Message 5', 'Message 4', 'Message 3', 'Message 2', 'Message 1']);

    const byTitle = Object.fromEntries((await c.feed(token)).items.map((i) => [i.title, i]));
    const mark = async (title: string, what: string, body?: unknown) => {
      const res = await c.inbox(token, `/messages/${byTitle[title]!.id}/${what}`, {
        method: 'POST',
        json: body,
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as {
        readAt: string | null;
        seenAt: string | null;
        archivedAt: string | null;
      };
    };
    assert.ok((await mark('Message 1', 'seen')).seenAt);
    assert.deepEqual(await c.counts(token), { unread: 5, unseen: 4 });
    const read = await mark('Message 2', 'read');
    assert.ok(read.readAt && read.seenAt, 'reading marks seen too');
    assert.deepEqual(await c.counts(token), { unread: 4, unseen: 3 });
    assert.equal((await mark('Message 2', 'unread')).readAt, null);
    assert.deepEqual(await c.counts(token), { unread: 5, unseen: 3 });
    assert.ok((await mark('Message 3', 'archive')).archivedAt);
    assert.deepEqual(await c.counts(token), { unread: 4, unseen: 2 });
    assert.deepEqual(
      (await c.feed(token, '?status=archived')).items.map((i) => i.title),
      ['Message 3'],
    );
    assert.ok(!(await c.feed(token)).items.some((i) => i.title === 'Message 3'));

    const all = await c.inbox(token, '/read-all', { method: 'POST' });
    assert.deepEqual(await all.json(), { read: 4 });
    assert.deepEqual(await c.counts(token), { unread: 0, unseen: 0 });
    assert.deepEqual((await c.feed(token, '?status=unread')).items, []);
    assert.equal((await c.feed(token)).items.length, 4);
  });

  it('records reads and clicks on the delivery and signals the open workflow; a closed one does not fail the read', async () => {
    const { user, token } = await c.reader({ email: `${uniqueId('inbox')}@example.test` });
    // Email cannot be sent (nobody listens), so the workflow stays open, delivering.
    const open = await c.notify(user.id, { channels: ['in_app', 'email'], title: 'Still open' });
    const item = await c.stored(token, 'Still open');
    const res = await c.inbox(token, `/messages/${item.id}/read`, { json: { action: 'approve' } });
    assert.equal(res.status, 200, await res.clone().text());

    const handle = herald.temporal.workflow.getHandle(workflowIdFor(open));
    const status = await eventually(
      async () => {
        const s = await handle.query(statusQuery);
        return s.engagement?.clicked && s;
      },
      { what: 'the workflow to hear of the read and the click' },
    );
    assert.equal(status.engagement?.read?.channel, 'in_app');
    assert.equal(status.engagement?.clicked?.action, 'approve');
    assert.equal(status.state, 'delivering');
    const delivery = (await n.view(open)).deliveries.find((d) => d.channel === 'in_app') as unknown as {
      readAt: string | null;
      clickedAt: string | null;
    };
    assert.ok(delivery.readAt && delivery.clickedAt);

    // Closed: sent and completed before the read.
    const closed = await c.notify(user.id, { title: 'Already closed' });
    await n.settled(closed, ['sent']);
    await herald.temporal.workflow.getHandle(workflowIdFor(closed)).result();
    const done = await c.stored(token, 'Already closed');
    const late = await c.inbox(token, `/messages/${done.id}/read`, { json: { clicked: true } });
    assert.equal(late.status, 200, await late.clone().text());
    const recorded = (await n.view(closed)).deliveries[0] as unknown as {
      readAt: string | null;
      clickedAt: string | null;
    };
    assert.ok(recorded.readAt && recorded.clickedAt);
  });

  it('removes read and archived messages older than INBOX_RETENTION on schedule; unread ones stay', async () => {
    const { user, token } = await c.reader();
    for (const title of ['Old read', 'Old archived', 'Old unread', 'New read'])
      await c.notify(user.id, { title });
    await eventually(async () => (await c.feed(token)).items.length === 4, { what: 'four messages' });
    const byTitle = Object.fromEntries((await c.feed(token)).items.map((i) => [i.title, i.id]));
    for (const [title, mark] of [
      ['Old read', 'read'],
      ['Old archived', 'archive'],
      ['New read', 'read'],
    ] as const)
      assert.equal(
        (await c.inbox(token, `/messages/${byTitle[title]}/${mark}`, { method: 'POST' })).status,
        200,
      );
    await herald.db.inboxMessage.updateMany({
      where: { userId: user.id, title: { startsWith: 'Old' } },
      data: { createdAt: new Date(Date.now() - 91 * 86_400_000) },
    });

    await ensureInboxRetentionSchedule(herald.temporal, { scheduleId, paused: true });
    const schedule = herald.temporal.schedule.getHandle(scheduleId);
    await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const run = await eventually(
      async () => (await schedule.describe()).info.recentActions.at(-1)?.action.workflow,
      {
        what: 'the schedule to start a retention run',
      },
    );
    const result: PruneInboxResult = await herald.temporal.workflow
      .getHandle(run.workflowId, run.firstExecutionRunId)
      .result();
    assert.ok(result.removed >= 2);
    const left = await herald.db.inboxMessage.findMany({ where: { userId: user.id } });
    assert.deepEqual(left.map((m) => m.title).sort(), ['New read', 'Old unread']);
  });
});
