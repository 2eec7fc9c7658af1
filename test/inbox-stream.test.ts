// The inbox's event stream: a stored message reaches an open stream as a `message` event with an id, then
// `counts`; a client reconnecting with Last-Event-ID gets what it missed and nothing twice. Across API
// processes (two servers, each with its own LISTEN connection): a stream held on one hears of a message
// accepted through the other, and of a read made there; a stream whose API stops reconnects to another
// and misses nothing; and when the LISTEN connection drops, the streams catch up once it is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createInAppChannel } from '../src/activities/channels/in-app/index.js';
import { INBOX_NOTIFY_CHANNEL } from '../src/store/inbox.js';
import { openInboxStream, type InboxEvent } from '../tools/clients/inbox-stream.js';
import { inboxClient, inboxEnv, type InboxItem } from './support/inbox.js';
import { eventually, startHerald, testEnv, type RunningStack } from './support/stack.js';

const titleOf = (event: InboxEvent) => (event.data as InboxItem).title;
const messages = (events: InboxEvent[]) => events.filter((e) => e.event === 'message').map(titleOf);

describe('the inbox stream', () => {
  // `a` runs the workers and an API; `b` is a second API process of the same deployment.
  let a: RunningStack;
  let b: RunningStack;
  const c = inboxClient(() => a);

  before(async () => {
    const config = testEnv(inboxEnv());
    a = await startHerald(config);
    b = await startHerald(config, { queues: [] });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('sends a new message with its id, then the counts; the token may be in the query', async () => {
    const { user, token } = await c.reader();
    const stream = await openInboxStream(a.apiUrl, { token, tokenIn: 'query' });
    assert.equal(stream.status, 200);
    const first = await stream.next((e) => e.event === 'counts');
    assert.deepEqual(first.data, { unread: 0, unseen: 0 });
    assert.equal(first.id, '0');
    await c.notify(user.id, { title: 'Live', data: { url: 'https://app.example.test/x' } });
    const message = await stream.next((e) => e.event === 'message');
    assert.equal(titleOf(message), 'Live');
    assert.equal((message.data as InboxItem).url, 'https://app.example.test/x');
    assert.equal(message.id, '1');
    const counts = await stream.next((e) => e.event === 'counts' && e.id === '1');
    assert.deepEqual(counts.data, { unread: 1, unseen: 1 });
    stream.close();
  });

  it('catches a reconnecting client up from Last-Event-ID, nothing twice', async () => {
    const { user, token } = await c.reader();
    const first = await openInboxStream(a.apiUrl, { token });
    await c.notify(user.id, { title: 'One' });
    const one = await first.next((e) => e.event === 'message');
    first.close();
    for (const title of ['Two', 'Three']) {
      await c.notify(user.id, { title });
      await c.stored(token, title);
    }
    const again = await openInboxStream(a.apiUrl, { token, lastEventId: one.id });
    await again.next((e) => e.event === 'counts');
    assert.deepEqual(messages(again.events), ['Two', 'Three']);
    await c.notify(user.id, { title: 'Four' });
    await again.next((e) => e.event === 'message' && titleOf(e) === 'Four');
    await again.next((e) => e.event === 'counts' && e.id === '4');
    assert.deepEqual(messages(again.events), ['Two', 'Three', 'Four']);
    assert.deepEqual(
      again.events.filter((e) => e.event === 'message').map((e) => e.id),
      ['2', '3', '4'],
    );
    again.close();

    // A new EventSource cannot set the header: the same from ?lastEventId=.
    const url = `${a.apiUrl}/inbox/v1/stream?token=${encodeURIComponent(token)}&lastEventId=3`;
    const res = await fetch(url);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: counts')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.deepEqual(
      [...text.matchAll(/"title":"([^"]+)"/g)].map((m) => m[1]),
      ['Four'],
    );
  });

  it('reaches a stream held on one API process with a message accepted through another, and a read made there', async () => {
    const { user, token } = await c.reader();
    const onB = await openInboxStream(b.apiUrl, { token });
    await onB.next((e) => e.event === 'counts');
    const id = await c.notify(user.id, { title: 'Through A' });
    assert.ok(id);
    const message = await onB.next((e) => e.event === 'message');
    assert.equal(titleOf(message), 'Through A');
    await onB.next((e) => e.event === 'counts' && (e.data as { unread: number }).unread === 1);
    const read = await c.inbox(token, `/messages/${(message.data as InboxItem).id}/read`, { method: 'POST' });
    assert.equal(read.status, 200);
    await onB.next((e) => e.event === 'counts' && (e.data as { unread: number }).unread === 0);
    onB.close();
  });

  it('lets a stream whose API stops reconnect to another and miss nothing', async () => {
    const { user, token } = await c.reader();
    const doomed = await startHerald(testEnv(inboxEnv()), { queues: [] });
    const stream = await openInboxStream(doomed.apiUrl, { token });
    await c.notify(user.id, { title: 'Before' });
    const before = await stream.next((e) => e.event === 'message');
    await doomed.stop();
    await stream.ended;
    await c.notify(user.id, { title: 'While away' });
    await c.stored(token, 'While away');
    const resumed = await openInboxStream(b.apiUrl, { token, lastEventId: before.id });
    await resumed.next((e) => e.event === 'counts');
    assert.deepEqual(messages(resumed.events), ['While away']);
    resumed.close();
  });

  it('catches every stream up when its LISTEN connection comes back', async () => {
    const { user, token } = await c.reader();
    const stream = await openInboxStream(b.apiUrl, { token });
    await stream.next((e) => e.event === 'counts');
    // Scheduled far ahead, so that this test stores its message itself, at the moment it chooses.
    const notificationId = await c.notify(user.id, {
      title: 'During the outage',
      sendAt: '2099-01-01T00:00:00Z',
    });
    const admin = new pg.Client({ connectionString: a.config.databaseUrl });
    await admin.connect();
    try {
      // Every LISTEN connection of this test's API processes drops; a message is stored meanwhile.
      const listening = async () =>
        (
          await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1`,
            [`LISTEN ${INBOX_NOTIFY_CHANNEL}`],
          )
        ).rows;
      const before = await listening();
      assert.ok(before.length >= 2, 'both API processes listen');
      for (const { pid } of before) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // Stored at once, well before the first reconnection (half a second later): its NOTIFY is lost.
      await createInAppChannel(a.db).send(
        { id: user.id, locale: 'en', linkVersion: 0, contacts: {}, pushSubscriptions: [] },
        { notificationId, category: 'updates', title: 'During the outage', body: '', data: {} },
      );
      const message = await stream.next((e) => e.event === 'message', { timeoutMs: 20_000 });
      assert.equal(titleOf(message), 'During the outage');
      await eventually(async () => (await listening()).length >= before.length, { what: 'LISTEN again' });
    } finally {
      await admin.end();
      stream.close();
    }
  });
});
