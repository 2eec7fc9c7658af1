// The spine end to end on real parts: API → Temporal workflow → email activity → SMTP sink → PostgreSQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiKey } from '../src/domain/api-keys.js';
import { eventually, uniqueId, useEmailStack } from './support/stack.js';

describe('spine: a notification becomes an email', () => {
  const t = useEmailStack();

  async function createUser(email = `${uniqueId('mail')}@example.test`) {
    const res = await t.herald.api('/v1/users', {
      json: { externalId: uniqueId(), email, timezone: 'Europe/Berlin' },
    });
    assert.equal(res.status, 201, await res.clone().text());
    return { ...((await res.json()) as { id: string; externalId: string }), email };
  }

  it('delivers through SMTP, records the delivery, and reports it as sent', async () => {
    const user = await createUser();
    const res = await t.herald.api('/v1/notifications', {
      json: {
        userId: user.id,
        category: 'billing',
        title: 'Invoice ready',
        body: 'Your invoice #42 is ready.',
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const accepted = (await res.json()) as { id: string; status: string; workflowId: string };
    assert.equal(accepted.workflowId, `notification-${accepted.id}`);
    assert.equal(res.headers.get('location'), `/v1/notifications/${accepted.id}`);

    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    assert.equal(mail.parsed.subject, 'Invoice ready');
    assert.match(mail.parsed.text ?? '', /Your invoice #42 is ready\./);
    assert.match(String(mail.parsed.html), /<h1>Invoice ready<\/h1>/);
    assert.equal(mail.parsed.messageId, `<${accepted.id}.email@example.test>`);

    const view = await eventually(
      async () => {
        const body = (await (await t.herald.api(`/v1/notifications/${accepted.id}`)).json()) as {
          status: string;
          deliveries: { channel: string; status: string; attempts: number; sentAt: string | null }[];
        };
        return body.status === 'sent' && body;
      },
      { what: 'the notification to be sent' },
    );
    assert.deepEqual(
      view.deliveries.map((d) => [d.channel, d.status, d.attempts]),
      [['email', 'sent', 1]],
    );
    assert.ok(view.deliveries[0]!.sentAt);

    const attempts = await t.herald.db.deliveryAttempt.findMany({
      where: { delivery: { notificationId: accepted.id } },
    });
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome]),
      [[1, 'sent']],
    );
    // The row says sent once completeNotification ran; the workflow closes a task later.
    const description = await eventually(
      async () => {
        const d = await t.herald.temporal.workflow.getHandle(accepted.workflowId).describe();
        return d.status.name === 'COMPLETED' && d;
      },
      { what: 'the workflow to complete' },
    );
    assert.equal(description.status.name, 'COMPLETED');
    assert.equal(description.typedSearchAttributes.get({ name: 'DeliveryStatus', type: 'KEYWORD' }), 'sent');
  });

  it('accepts an externalId as userId', async () => {
    const user = await createUser();
    const res = await t.herald.api('/v1/notifications', {
      json: { userId: user.externalId, category: 'news', title: 'Hello', body: 'By external id' },
    });
    assert.equal(res.status, 202);
    await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
  });

  it('records "skipped" when the user has no address on any requested channel', async () => {
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId() } });
    const user = (await res.json()) as { id: string };
    const sent = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'news', title: 'Nowhere', body: 'No address', channels: ['email'] },
    });
    const { id } = (await sent.json()) as { id: string };
    const view = await eventually(async () => {
      const body = (await (await t.herald.api(`/v1/notifications/${id}`)).json()) as {
        status: string;
        deliveries: { status: string; lastError: string }[];
      };
      return body.status === 'skipped' && body;
    });
    assert.equal(view.deliveries[0]!.status, 'skipped');
    assert.match(view.deliveries[0]!.lastError, /no email address/);
  });

  it('returns the first notification for a repeated Idempotency-Key and sends one email', async () => {
    const user = await createUser();
    const request = { userId: user.id, category: 'billing', title: 'Once', body: 'Only once' };
    const key = uniqueId('idem');
    const [a, b] = await Promise.all([
      t.herald.api('/v1/notifications', { json: request, headers: { 'idempotency-key': key } }),
      t.herald.api('/v1/notifications', { json: request, headers: { 'idempotency-key': key } }),
    ]);
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    const [first, second] = (await Promise.all([a.json(), b.json()])) as { id: string }[];
    assert.equal(first!.id, second!.id);
    await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    await eventually(async () => {
      const body = (await (await t.herald.api(`/v1/notifications/${first!.id}`)).json()) as {
        status: string;
      };
      return body.status === 'sent';
    });
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 1);
    assert.equal(await t.herald.db.notification.count({ where: { userId: user.id } }), 1);

    const changed = await t.herald.api('/v1/notifications', {
      json: { ...request, body: 'Something else' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(changed.status, 409);
    assert.equal(changed.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  it("keeps Idempotency-Keys to the API key that used them: another caller's same key is its own", async () => {
    const user = await createUser();
    const request = { userId: user.id, category: 'billing', title: 'Mine', body: 'Separate' };
    const key = uniqueId('shared-idem');
    const { key: otherKey } = await createApiKey(t.herald.db, uniqueId('other-service'));
    const first = await t.herald.api('/v1/notifications', {
      json: request,
      headers: { 'idempotency-key': key },
    });
    const other = await t.herald.api('/v1/notifications', {
      json: { ...request, body: 'A different body is no conflict for another caller' },
      headers: { 'idempotency-key': key, authorization: `Bearer ${otherKey}` },
    });
    assert.equal(first.status, 202);
    assert.equal(other.status, 202, await other.clone().text());
    const [a, b] = (await Promise.all([first.json(), other.json()])) as { id: string }[];
    assert.notEqual(a!.id, b!.id);
    assert.equal(await t.herald.db.notification.count({ where: { userId: user.id } }), 2);
  });
});
