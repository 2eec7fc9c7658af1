// Delivery-status webhooks end to end: an API key registers a receiver, Herald POSTs a signed event
// when the key's notification is delivered or fails, and Temporal retries it until the receiver says 2xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  WEBHOOK_HEADERS,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/domain/webhook-signature.js';
import type { WebhookEvent } from '../src/workflows/webhooks.js';
import { createDb } from '../src/store/db.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { eventually, testEnv, uniqueId, useEmailStack } from './support/stack.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../tools/fakes/webhook-receiver.js';

/** Herald's own client is closed by then (its hook ran first): a short-lived one does the cleanup. */
async function removeEndpoints(receiver: WebhookReceiver | undefined): Promise<void> {
  if (!receiver) return;
  const db = createDb(testEnv().databaseUrl);
  try {
    await db.webhookEndpoint.updateMany({
      where: { url: { startsWith: receiver.url }, deletedAt: null },
      data: { deletedAt: new Date() },
    });
  } finally {
    await db.$disconnect();
    await receiver.close();
  }
}

describe('delivery-status webhooks', () => {
  const t = useEmailStack({
    DELIVERY_RETRY_POLICIES: '{"email":{"initialInterval":"200ms"}}',
  });
  let receiver: WebhookReceiver;
  // Another service: a stored key that may send (API_KEYS are admin, and admin reaches every key's webhooks).
  const asOther: Record<string, string> = {};
  before(async () => {
    receiver = await startWebhookReceiver();
    const { key } = await createApiKey(t.herald.db, uniqueId('other-service'), ['send']);
    asOther.authorization = `Bearer ${key}`;
  });
  after(async () => {
    // Endpoints left registered would keep later tests' workflows open, retrying a closed receiver.
    await removeEndpoints(receiver);
  });

  async function register(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await t.herald.api('/v1/webhooks', { json: body, headers });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; secret: string; url: string; events: string[] };
  }
  async function notify(extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const email = `${uniqueId('hook')}@example.test`;
    const user = (await (
      await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email } })
    ).json()) as { id: string };
    const res = await t.herald.api('/v1/notifications', {
      json: {
        userId: user.id,
        category: 'billing',
        title: 'Paid',
        body: 'Thanks',
        channels: ['email'],
        ...extra,
      },
      headers,
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }
  const eventFor = (id: string, type?: string) => (hook: ReceivedWebhook) => {
    const event = JSON.parse(hook.body) as WebhookEvent;
    return event.data.notificationId === id && (!type || event.type === type);
  };

  it('registers an endpoint, shows the secret once, and keeps it to the key that registered it', async () => {
    const res = await t.herald.api('/v1/webhooks', {
      json: { url: `${receiver.url}/one`, events: ['notification.failed'], description: 'billing alerts' },
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { id: string; secret: string; events: string[] };
    assert.equal(res.headers.get('location'), `/v1/webhooks/${created.id}`);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(created.events, ['notification.failed']);

    const list = (await (await t.herald.api('/v1/webhooks')).json()) as { items: Record<string, unknown>[] };
    const listed = list.items.find((item) => item.id === created.id);
    assert.ok(listed);
    assert.equal('secret' in listed, false);
    const one = (await (await t.herald.api(`/v1/webhooks/${created.id}`)).json()) as Record<string, unknown>;
    assert.equal(one.description, 'billing alerts');
    assert.equal('secret' in one, false);
    assert.deepEqual(one.recentDeliveries, []);

    // Another key neither sees it nor removes it.
    assert.equal((await t.herald.api(`/v1/webhooks/${created.id}`, { headers: asOther })).status, 404);
    const foreign = (await (await t.herald.api('/v1/webhooks', { headers: asOther })).json()) as {
      items: { id: string }[];
    };
    assert.equal(
      foreign.items.some((item) => item.id === created.id),
      false,
    );
    assert.equal(
      (await t.herald.api(`/v1/webhooks/${created.id}`, { method: 'DELETE', headers: asOther })).status,
      404,
    );

    assert.equal((await t.herald.api(`/v1/webhooks/${created.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await t.herald.api(`/v1/webhooks/${created.id}`)).status, 404);
  });

  it("lets an admin key read and remove another key's endpoint by id, and lists only its own", async () => {
    const theirs = await register({ url: `${receiver.url}/admin-sees` }, asOther);
    const seen = await t.herald.api(`/v1/webhooks/${theirs.id}`);
    assert.equal(seen.status, 200, await seen.clone().text());
    assert.equal(((await seen.json()) as { url: string }).url, `${receiver.url}/admin-sees`);
    const own = (await (await t.herald.api('/v1/webhooks')).json()) as { items: { id: string }[] };
    assert.equal(
      own.items.some((item) => item.id === theirs.id),
      false,
    );
    assert.equal((await t.herald.api(`/v1/webhooks/${theirs.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await t.herald.api(`/v1/webhooks/${theirs.id}`, { headers: asOther })).status, 404);
  });

  it('refuses bad registrations field by field and stores nothing', async () => {
    const before = await t.herald.db.webhookEndpoint.count();
    for (const [body, field] of [
      [{ url: 'ftp://example.test/hook' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: `${receiver.url}/x`, events: ['notification.exploded'] }, 'events.0'],
      [{ url: `${receiver.url}/x`, secret: 'mine' }, '(body)'],
      [{}, 'url'],
    ] as const) {
      const res = await t.herald.api('/v1/webhooks', { json: body });
      assert.equal(res.status, 422, JSON.stringify(body));
      const problem = (await res.json()) as { type: string; errors: { field: string }[] };
      assert.equal(problem.type, 'https://herald.dev/problems/validation-error');
      assert.ok(
        problem.errors.some((e) => e.field === field),
        `${JSON.stringify(body)} → ${JSON.stringify(problem.errors)}`,
      );
    }
    assert.equal((await t.herald.api('/v1/webhooks/not-a-uuid')).status, 422);
    assert.equal(await t.herald.db.webhookEndpoint.count(), before);
  });

  it('POSTs a signed notification.sent event that verifies, and refuses an altered or replayed one', async () => {
    const endpoint = await register({ url: `${receiver.url}/sent` });
    const id = await notify();
    const hook = await receiver.waitFor(eventFor(id, 'notification.sent'));
    assert.equal(hook.path, '/sent');
    assert.equal(hook.headers['content-type'], 'application/json');

    const verified = verifyWebhook(endpoint.secret, hook.headers, hook.body);
    const event = JSON.parse(hook.body) as WebhookEvent;
    assert.equal(verified.id, event.id);
    assert.equal(event.data.status, 'sent');
    assert.equal(event.data.channels.email?.state, 'sent');
    assert.equal(event.data.category, 'billing');
    assert.doesNotMatch(hook.body, /@example\.test/, 'no address in the event');

    assert.throws(
      () => verifyWebhook(endpoint.secret, hook.headers, hook.body.replace('"sent"', '"failed"')),
      WebhookVerificationError,
    );
    assert.throws(() =>
      verifyWebhook('whsec_' + Buffer.alloc(32).toString('base64'), hook.headers, hook.body),
    );
    // The same delivery replayed ten minutes later is outside the tolerance.
    assert.throws(
      () => verifyWebhook(endpoint.secret, hook.headers, hook.body, { now: Date.now() + 10 * 60_000 }),
      /tolerance/,
    );
    // A fresh timestamp does not help a replayer without the secret: the signature covers it.
    const forged = {
      ...hook.headers,
      [WEBHOOK_HEADERS.timestamp]: String(Number(hook.headers[WEBHOOK_HEADERS.timestamp]) + 60),
    };
    assert.throws(() => verifyWebhook(endpoint.secret, forged, hook.body), /no signature/);

    const record = await eventually(
      () =>
        t.herald.db.webhookDelivery.findFirst({
          where: { endpointId: endpoint.id, notificationId: id, status: 'delivered' },
        }),
      { what: 'the webhook delivery record' },
    );
    assert.equal(record.attempts, 1);
    assert.equal(record.responseStatus, 204);
    await t.herald.api(`/v1/webhooks/${endpoint.id}`, { method: 'DELETE' });
  });

  it('retries a receiver that fails until it answers 2xx, with the same event id each time', async () => {
    const endpoint = await register({ url: `${receiver.url}/flaky` });
    receiver.failNext(503, 1, 1);
    receiver.failNext(500, 1);
    const id = await notify();
    await eventually(
      () => t.herald.db.webhookDelivery.findFirst({ where: { notificationId: id, status: 'delivered' } }),
      { what: 'the webhook to be delivered', timeoutMs: 30_000 },
    );
    const hooks = receiver.received.filter((h) => h.path === '/flaky' && eventFor(id)(h));
    assert.deepEqual(
      hooks.map((h) => h.answered),
      [503, 500, 204],
    );
    assert.equal(new Set(hooks.map((h) => h.headers[WEBHOOK_HEADERS.id])).size, 1);
    // Retry-After: 1 from the receiver was honoured before the second attempt.
    assert.ok(hooks[1]!.at - hooks[0]!.at >= 900, `${hooks[1]!.at - hooks[0]!.at} ms`);
    for (const hook of hooks) verifyWebhook(endpoint.secret, hook.headers, hook.body);
    const record = await t.herald.db.webhookDelivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(record.attempts, 3);
    const view = (await (await t.herald.api(`/v1/webhooks/${endpoint.id}`)).json()) as {
      recentDeliveries: { notificationId: string; status: string; attempts: number }[];
    };
    assert.deepEqual(
      view.recentDeliveries.filter((d) => d.notificationId === id).map((d) => [d.status, d.attempts]),
      [['delivered', 3]],
    );
    await t.herald.api(`/v1/webhooks/${endpoint.id}`, { method: 'DELETE' });
  });

  it('tells of a failed delivery, and only endpoints that asked for that event hear it', async () => {
    const failedOnly = await register({
      url: `${receiver.url}/failed-only`,
      events: ['notification.failed'],
    });
    const sentOnly = await register({ url: `${receiver.url}/sent-only`, events: ['notification.sent'] });
    t.smtp.failNext(550, 1);
    const id = await notify();
    const hook = await receiver.waitFor(eventFor(id, 'notification.failed'));
    assert.equal(hook.path, '/failed-only');
    const event = JSON.parse(hook.body) as WebhookEvent;
    assert.equal(event.data.channels.email?.state, 'failed');
    assert.equal(event.data.channels.email?.permanent, true);

    // Retried through the API, it is sent: the sent-only endpoint hears that, the failed-only one does not.
    assert.equal((await t.herald.api(`/v1/notifications/${id}/retry`, { method: 'POST' })).status, 202);
    const sent = await receiver.waitFor(eventFor(id, 'notification.sent'));
    assert.equal(sent.path, '/sent-only');
    assert.equal((JSON.parse(sent.body) as WebhookEvent).data.retries, 1);
    assert.deepEqual(
      receiver.received.filter(eventFor(id)).map((h) => h.path),
      ['/failed-only', '/sent-only'],
    );
    for (const e of [failedOnly, sentOnly]) await t.herald.api(`/v1/webhooks/${e.id}`, { method: 'DELETE' });
  });

  it("sends nothing to another key's endpoints, or to a removed endpoint", async () => {
    const mine = await register({ url: `${receiver.url}/mine` });
    const theirs = await register({ url: `${receiver.url}/theirs` }, asOther);
    const id = await notify({}, asOther);
    const hook = await receiver.waitFor(eventFor(id, 'notification.sent'));
    assert.equal(hook.path, '/theirs');

    await t.herald.api(`/v1/webhooks/${theirs.id}`, { method: 'DELETE', headers: asOther });
    const second = await notify({}, asOther);
    await eventually(
      async () =>
        ((await (await t.herald.api(`/v1/notifications/${second}`)).json()) as { status: string }).status ===
        'sent',
      { what: 'the second notification to be sent' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      receiver.received.filter((h) => eventFor(id)(h) || eventFor(second)(h)).map((h) => h.path),
      ['/theirs'],
    );
    await t.herald.api(`/v1/webhooks/${mine.id}`, { method: 'DELETE' });
  });
});

describe('webhook retries are bounded', () => {
  const t = useEmailStack({ WEBHOOK_RETRY_FOR: '3s' });
  let receiver: WebhookReceiver;
  before(async () => {
    receiver = await startWebhookReceiver();
    receiver.failAlways(500);
  });
  after(async () => {
    // Endpoints left registered would keep later tests' workflows open, retrying a closed receiver.
    await removeEndpoints(receiver);
  });

  it('gives up when the receiver never answers 2xx in time, and records why', async () => {
    const endpoint = (await (
      await t.herald.api('/v1/webhooks', { json: { url: `${receiver.url}/down` } })
    ).json()) as { id: string };
    const user = (await (
      await t.herald.api('/v1/users', {
        json: { externalId: uniqueId(), email: `${uniqueId()}@example.test` },
      })
    ).json()) as { id: string };
    const id = (
      (await (
        await t.herald.api('/v1/notifications', {
          json: { userId: user.id, category: 'billing', title: 'a', body: 'b', channels: ['email'] },
        })
      ).json()) as { id: string }
    ).id;
    const record = await eventually(
      () => t.herald.db.webhookDelivery.findFirst({ where: { endpointId: endpoint.id, status: 'failed' } }),
      { what: 'the webhook to be given up', timeoutMs: 20_000 },
    );
    assert.equal(record.notificationId, id);
    assert.ok(receiver.received.length >= 2, `${receiver.received.length} attempts`);
    assert.ok(record.lastError);
    // The workflow closes once its webhooks are settled; the notification itself was sent.
    const handle = t.herald.temporal.workflow.getHandle(`notification-${id}`);
    assert.equal(await handle.result(), 'sent');
  });

  it('signs with the endpoint secret in the Standard Webhooks scheme', () => {
    // A known vector: anyone's Standard Webhooks library computes the same.
    const secret = 'whsec_' + Buffer.from('herald-test-secret-0123456789abc').toString('base64');
    const headers = signWebhook(secret, 'msg_1', 1_700_000_000, '{"a":1}');
    assert.equal(headers[WEBHOOK_HEADERS.id], 'msg_1');
    assert.match(headers[WEBHOOK_HEADERS.signature], /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(verifyWebhook(secret, headers, '{"a":1}', { now: 1_700_000_100_000 }), {
      id: 'msg_1',
      timestamp: 1_700_000_000,
    });
  });
});
