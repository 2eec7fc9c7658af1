// Audiences and broadcasts through the API on the real stack (Temporal, PostgreSQL, an SMTP sink):
// topic routes, a broadcast that reaches each subscriber exactly once, its progress, preferences applied
// per recipient, and a cancel midway after which no delivery starts. A cancel while the deliveries wait
// in the email queue is test/broadcast-cancel.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, uniqueId, useEmailStack } from './support/stack.js';
import { cleanupEnded, type BroadcastView } from './support/broadcasts.js';

describe('topics and broadcasts', () => {
  const t = useEmailStack();
  const api = (path: string, init?: RequestInit & { json?: unknown }) => t.herald.api(path, init);

  /** Users with email addresses, made in one statement per call through the API's own store. */
  async function createUsers(count: number, prefix: string) {
    const users: { id: string; externalId: string; email: string }[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, async () => {
          const externalId = uniqueId(prefix);
          const email = `${externalId}@example.test`;
          const res = await api('/v1/users', { json: { externalId, email } });
          assert.equal(res.status, 201, await res.clone().text());
          return { ...((await res.json()) as { id: string }), externalId, email };
        }),
      );
      users.push(...batch);
    }
    return users;
  }
  async function topicWith(users: readonly { id: string }[], key = uniqueId('topic')) {
    assert.equal((await api(`/v1/topics/${key}`, { method: 'PUT', json: { name: key } })).status, 201);
    for (let i = 0; i < users.length; i += 1000) {
      const res = await api(`/v1/topics/${key}/subscribers`, {
        json: { users: users.slice(i, i + 1000).map((u) => u.id) },
      });
      assert.equal(res.status, 200, await res.clone().text());
    }
    return key;
  }
  const broadcast = async (topic: string, extra: Record<string, unknown> = {}) => {
    const res = await api('/v1/notifications', {
      json: { topic, category: 'news', title: 'Hello', body: 'To everyone', channels: ['email'], ...extra },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as { id: string; kind: string; recipients: number; status: string };
  };
  const view = async (id: string) => {
    const res = await api(`/v1/notifications/${id}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as BroadcastView;
  };
  const mailsTo = (email: string) => t.smtp.messages.filter((m) => m.envelopeTo.includes(email)).length;

  it('creates, updates and reads a topic; subscribes idempotently and reports unknown users per item', async () => {
    const [alice, bob] = await createUsers(2, 'topic-user');
    const key = uniqueId('weekly');
    let res = await api(`/v1/topics/${key}`, {
      method: 'PUT',
      json: { name: 'Weekly', description: 'Digest' },
    });
    assert.equal(res.status, 201);
    res = await api(`/v1/topics/${key}`, { method: 'PUT', json: { name: 'Weekly digest' } });
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...((await res.json()) as object), createdAt: undefined, updatedAt: undefined },
      {
        key,
        name: 'Weekly digest',
        description: null,
        subscribers: 0,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );

    const body = { users: [alice!.id, bob!.externalId, 'nobody-here'] };
    res = await api(`/v1/topics/${key}/subscribers`, { json: body });
    assert.equal(res.status, 200);
    const first = (await res.json()) as {
      subscribed: number;
      failed: number;
      results: { status?: string; error?: { type: string } }[];
    };
    assert.equal(first.subscribed, 2);
    assert.equal(first.failed, 1);
    assert.match(first.results[2]!.error!.type, /unknown-user$/);
    res = await api(`/v1/topics/${key}/subscribers`, { json: body });
    const again = (await res.json()) as { subscribed: number; alreadySubscribed: number };
    assert.deepEqual([again.subscribed, again.alreadySubscribed], [0, 2], 'a repeat subscribes no one twice');
    assert.equal(((await (await api(`/v1/topics/${key}`)).json()) as { subscribers: number }).subscribers, 2);

    const topics = (await (await api(`/v1/users/${bob!.externalId}/topics`)).json()) as {
      items: { key: string }[];
    };
    assert.deepEqual(
      topics.items.map((i) => i.key),
      [key],
    );
    assert.equal((await api(`/v1/topics/${key}/subscribers/${bob!.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/v1/topics/${key}/subscribers/${bob!.id}`, { method: 'DELETE' })).status, 204);
    assert.equal(((await (await api(`/v1/topics/${key}`)).json()) as { subscribers: number }).subscribers, 1);
    assert.equal((await api(`/v1/topics/${key}/subscribers/nobody-here`, { method: 'DELETE' })).status, 404);
    assert.equal((await api(`/v1/topics/no-such-topic-${Date.now()}`)).status, 404);
  });

  it('refuses bad input with 422 and changes nothing', async () => {
    const key = uniqueId('bad');
    for (const [path, init] of [
      [`/v1/topics/Not_A_Key`, { method: 'PUT', json: { name: 'x' } }],
      [`/v1/topics/${key}`, { method: 'PUT', json: { name: '' } }],
      [`/v1/topics/${key}`, { method: 'PUT', json: { name: 'x', colour: 'red' } }],
      [`/v1/topics/${key}/subscribers`, { json: { users: [] } }],
      [`/v1/topics/${key}/subscribers`, { json: { users: Array.from({ length: 1001 }, (_, i) => `u${i}`) } }],
      ['/v1/notifications', { json: { category: 'news', title: 'T', body: 'B' } }],
      ['/v1/notifications', { json: { topic: key, userId: 'x', category: 'news', title: 'T', body: 'B' } }],
      ['/v1/notifications', { json: { topic: 'Bad Key', category: 'news', title: 'T', body: 'B' } }],
      ['/v1/notifications', { json: { topic: key, category: 'news', title: 'T', body: 'B' } }],
    ] as const) {
      const res = await api(path, init);
      assert.equal(res.status, 422, `${path} ${JSON.stringify(init)}: ${await res.clone().text()}`);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.ok(((await res.json()) as { errors: unknown[] }).errors.length > 0);
    }
    assert.equal((await api(`/v1/topics/${key}`)).status, 404, 'nothing was created');
    assert.equal(await t.herald.db.broadcast.count({ where: { topic: { key } } }), 0);
  });

  it('delivers a broadcast to a few hundred subscribers exactly once each, skipping one who opted out, with progress', async () => {
    const users = await createUsers(200, 'bc');
    const optedOut = users[7]!;
    const pref = await api(`/v1/users/${optedOut.id}/preferences`, {
      method: 'PUT',
      json: { rules: [{ category: 'news', channel: '*', enabled: false }], quietHours: null },
    });
    assert.equal(pref.status, 200, await pref.clone().text());
    const key = await topicWith(users);
    // Subscribed after the broadcast was accepted: outside its snapshot.
    const [late] = await createUsers(1, 'bc-late');

    const accepted = await broadcast(key);
    assert.equal(accepted.kind, 'broadcast');
    assert.equal(accepted.recipients, 200);
    await api(`/v1/topics/${key}/subscribers`, { json: { users: [late!.id] } });

    const done = await eventually(
      async () => {
        const v = await view(accepted.id);
        return v.progress.sent + v.progress.skipped === 200 && v;
      },
      { timeoutMs: 400_000, what: 'every recipient sent or skipped' },
    );
    assert.deepEqual(done.progress, {
      recipients: 200,
      started: 200,
      sent: 199,
      failed: 0,
      skipped: 1,
      cancelled: 0,
    });
    assert.equal(done.status, 'completed');
    for (const user of users) assert.equal(mailsTo(user.email), user === optedOut ? 0 : 1, user.email);
    assert.equal(mailsTo(late!.email), 0, 'a subscriber who joined after the snapshot gets nothing');

    // The recipients' notifications are ordinary ones: each readable on its own.
    const one = await t.herald.db.notification.findFirstOrThrow({ where: { broadcastId: accepted.id } });
    assert.equal(
      ((await (await api(`/v1/notifications/${one.id}`)).json()) as { userId: string }).userId,
      one.userId,
    );

    // The same Idempotency-Key finds the first broadcast; with another body it is refused.
    const idem = { 'Idempotency-Key': uniqueId('idem') };
    const body = {
      topic: key,
      category: 'news',
      title: 'Again',
      body: 'B',
      channels: ['email'],
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const a = await api('/v1/notifications', { headers: idem, json: body });
    const b = await api('/v1/notifications', { headers: idem, json: body });
    assert.equal(((await a.json()) as { id: string }).id, ((await b.json()) as { id: string }).id);
    assert.equal(
      (await api('/v1/notifications', { headers: idem, json: { ...body, title: 'Other' } })).status,
      409,
    );
  });

  it('cancels a broadcast midway: no delivery starts after the cancel is acknowledged', async () => {
    const users = await createUsers(300, 'bc-cancel');
    const key = await topicWith(users);
    const accepted = await broadcast(key);
    // The cancel comes while the first recipients' deliveries run and the others' have not started.
    await eventually(async () => (await view(accepted.id)).progress.sent >= 1, {
      timeoutMs: 60_000,
      what: 'the first deliveries',
    });
    // A 503 (the recipients' workflows did not all answer in time) is retried, as a client would.
    const res = await eventually(
      async () => {
        const answer = await api(`/v1/notifications/${accepted.id}/cancel`, {
          json: { reason: 'wrong audience' },
        });
        return answer.status === 503 ? undefined : answer;
      },
      { timeoutMs: 300_000, what: 'the cancel to be acknowledged' },
    );
    const acknowledgedAt = new Date();
    assert.equal(res.status, 200, await res.clone().text());
    const cancelled = (await res.json()) as BroadcastView;
    assert.equal(cancelled.status, 'cancelled');

    // The recipients are cancelled after the answer; their statuses end right.
    await cleanupEnded(t.herald, accepted.id);
    const startedLater = await t.herald.db.deliveryAttempt.count({
      where: { startedAt: { gt: acknowledgedAt }, delivery: { notification: { broadcastId: accepted.id } } },
    });
    assert.equal(startedLater, 0, 'no attempt started after the cancel was acknowledged');
    const final = await view(accepted.id);
    assert.ok(final.progress.cancelled > 0, JSON.stringify(final.progress));
    assert.ok(final.progress.sent < 300, JSON.stringify(final.progress));
    // An email already handed to the sink when the cancel came counts as a sent delivery, though its
    // notification ends cancelled: every email that arrived is a delivery recorded sent, and no other.
    const sentEmails = users.filter((u) => mailsTo(u.email) > 0).length;
    const sentDeliveries = await t.herald.db.delivery.count({
      where: { status: 'sent', notification: { broadcastId: accepted.id } },
    });
    assert.equal(
      sentEmails,
      sentDeliveries,
      'each recipient with a sent delivery got its email, no one else',
    );
    assert.ok(
      users.every((u) => mailsTo(u.email) <= 1),
      'no one got it twice',
    );
    assert.equal(
      (await api(`/v1/notifications/${accepted.id}/cancel`, { json: {} })).status,
      200,
      'a repeat is fine',
    );
  });
});
