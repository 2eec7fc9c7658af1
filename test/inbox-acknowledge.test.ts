// Acknowledging from the in-app inbox on real parts: a notification sent with `ack: true` is stored with
// an acknowledge action; POST /inbox/v1/messages/:id/acknowledge, with the reader's inbox token, records
// it once on the in_app delivery, reads the message and tells the running workflow. Another user's token,
// a message that does not ask, and a bad token get clear errors and change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import { freePort } from '../tools/local-stack/ports.js';
import { inboxClient, inboxEnv, type InboxItem } from './support/inbox.js';
import {
  eventually,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

describe('acknowledging in the in-app inbox', () => {
  const since = new Date();
  let herald: RunningStack;
  const c = inboxClient(() => herald);

  before(async () => {
    // Email goes to a port nobody listens on: its deliveries retry, which keeps the workflow open.
    herald = await startHerald(
      testEnv({
        ...inboxEnv(),
        SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
        MAIL_FROM: 'h@example.test',
      }),
    );
  });
  after(async () => {
    if (herald) await terminateWorkflowsSince(herald.temporal, since, 'inbox acknowledge tests are over');
    await herald?.stop();
  });

  const inAppDelivery = (notificationId: string) =>
    herald.db.delivery.findFirst({ where: { notificationId, channel: 'in_app' } });
  const message = (id: string) => herald.db.inboxMessage.findUnique({ where: { id } });

  it('acknowledges a message that asks, once, with the reader’s token, and tells the workflow', async () => {
    const { user, token } = await c.reader({ email: `${uniqueId('ack')}@example.test` });
    const id = await c.notify(user.id, { channels: ['in_app', 'email'], title: 'Sign the form', ack: true });
    const item = await c.stored(token, 'Sign the form');
    assert.equal(item.ackRequested, true);
    assert.equal(item.acknowledgedAt, null);

    const res = await c.inbox(token, `/messages/${item.id}/acknowledge`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const acknowledged = (await res.json()) as InboxItem;
    assert.ok(acknowledged.acknowledgedAt);
    assert.ok(acknowledged.readAt, 'acknowledging reads it');
    const delivery = await inAppDelivery(id);
    assert.equal(delivery?.acknowledgedAt?.toISOString(), acknowledged.acknowledgedAt);

    const status = await eventually(
      async () => {
        const s = await herald.temporal.workflow.getHandle(workflowIdFor(id)).query(statusQuery);
        return s.engagement?.acknowledged && s;
      },
      { what: 'the workflow to hear of the acknowledgement' },
    );
    assert.equal(status.engagement?.acknowledged?.channel, 'in_app');
    assert.equal(status.engagement?.acknowledged?.at, acknowledged.acknowledgedAt);
    assert.equal(status.state, 'delivering');

    const again = await c.inbox(token, `/messages/${item.id}/acknowledge`, { method: 'POST' });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as InboxItem).acknowledgedAt, acknowledged.acknowledgedAt);
    const feed = (await c.feed(token)).items;
    assert.equal(feed.find((i) => i.id === item.id)?.acknowledgedAt, acknowledged.acknowledgedAt);
  });

  it('refuses another user’s token, a message that does not ask, and a bad token, changing nothing', async () => {
    const ada = await c.reader();
    const eve = await c.reader();
    const id = await c.notify(ada.user.id, { title: 'For Ada only', ack: true });
    const item = await c.stored(ada.token, 'For Ada only');
    const plainId = await c.notify(ada.user.id, { title: 'Nothing to confirm' });
    const plain = await c.stored(ada.token, 'Nothing to confirm');
    assert.equal(plain.ackRequested, false);
    await eventually(
      async () =>
        (await inAppDelivery(id))?.status === 'sent' && (await inAppDelivery(plainId))?.status === 'sent',
      {
        what: 'both deliveries recorded sent',
      },
    );
    const before = {
      delivery: await inAppDelivery(id),
      plainDelivery: await inAppDelivery(plainId),
      item: await message(item.id),
      plain: await message(plain.id),
    };

    const foreign = await c.inbox(eve.token, `/messages/${item.id}/acknowledge`, { method: 'POST' });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const notAsked = await c.inbox(ada.token, `/messages/${plain.id}/acknowledge`, { method: 'POST' });
    assert.equal(notAsked.status, 409);
    assert.match(((await notAsked.json()) as { detail: string }).detail, /does not ask/);
    const forged = await c.inbox(`${ada.token.slice(0, -2)}xx`, `/messages/${item.id}/acknowledge`, {
      method: 'POST',
    });
    assert.equal(forged.status, 401);
    const notAnId = await c.inbox(ada.token, '/messages/not-a-uuid/acknowledge', { method: 'POST' });
    assert.equal(notAnId.status, 422);

    assert.deepEqual(
      {
        delivery: await inAppDelivery(id),
        plainDelivery: await inAppDelivery(plainId),
        item: await message(item.id),
        plain: await message(plain.id),
      },
      before,
      'a refused acknowledgement changed something',
    );
  });
});
