// @herald/client against the real API (workers, PostgreSQL, Temporal and an SMTP sink, as in test/):
// an idempotent send by default, problem+json as typed exceptions, cursor iteration, and a real
// delivery-status webhook verified with verifyWebhook.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createHeraldClient,
  HeraldProblem,
  NotFoundProblem,
  ValidationProblem,
  verifyWebhook,
  WebhookVerificationError,
  type HeraldClient,
  type WebhookEvent,
} from '@herald/client';
import type { WebhookEvent as HeraldWebhookEvent } from '../../../src/workflows/webhooks.js';
import { signWebhook } from '../../../src/domain/webhook-signature.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../tools/fakes/webhook-receiver.js';
import { TEST_API_KEY, uniqueId, untilStatus, useEmailStack } from '../../../test/support/stack.js';

// The client's event type accepts every event Herald's workflow builds (checked by the compiler).
const _sameEvent = (event: HeraldWebhookEvent): WebhookEvent => event;

/** An hour away: notifications that stay scheduled, so listing them races with nothing. */
const SEND_AT = new Date(Date.now() + 3_600_000).toISOString();

describe('@herald/client against the API', () => {
  const t = useEmailStack();
  let herald: HeraldClient;
  let receiver: WebhookReceiver;
  before(async () => {
    herald = createHeraldClient({ baseUrl: t.herald.apiUrl, apiKey: TEST_API_KEY });
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  const newUser = () =>
    herald.users.create({
      externalId: uniqueId('client'),
      contacts: { email: `${uniqueId('c')}@example.test` },
    });

  it('sends with an Idempotency-Key of its own, and a repeat with that key returns the first notification', async () => {
    const user = await newUser();
    const input = {
      userId: user.externalId,
      category: 'billing',
      title: 'Invoice',
      body: 'Ready',
      channels: ['email' as const],
    };
    const first = await herald.notifications.send(input);
    assert.match(first.idempotencyKey, /^[0-9a-f-]{36}$/);
    assert.equal(first.status, 'accepted');
    assert.equal(first.workflowId, `notification-${first.id}`);

    const again = await herald.notifications.send(input, { idempotencyKey: first.idempotencyKey });
    assert.equal(again.id, first.id);
    const other = await herald.notifications.send(input);
    assert.notEqual(other.id, first.id, 'without a key, each send gets a new one');

    await untilStatus(t.herald, first.id, 'sent');
    const read = await herald.notifications.get(first.id);
    assert.equal(read.deliveries[0]?.channel, 'email');
    assert.equal(read.deliveries[0]?.status, 'sent');
  });

  it('stores a flow, sends through it and cancels by key; manages a topic and its subscribers', async () => {
    const user = await newUser();
    const flowKey = uniqueId('client-flow').toLowerCase();
    const stored = await herald.flows.put(flowKey, {
      steps: [
        { type: 'delay', duration: '1h' },
        { type: 'send', channels: ['email'] },
      ],
    });
    assert.equal(stored.currentVersion, 1);
    assert.equal((await herald.flows.get(flowKey)).versions.length, 1);
    const cancellationKey = uniqueId('order');
    const sent = await herald.notifications.send({
      userId: user.id,
      category: 'orders',
      title: 'Later',
      body: 'b',
      flow: flowKey,
      cancellationKey,
    });
    const cancelled = await herald.notifications.cancelByKey(cancellationKey);
    assert.equal(cancelled.cancelled, 1);
    await untilStatus(t.herald, sent.id, 'cancelled');

    const topicKey = uniqueId('client-topic').toLowerCase();
    await herald.topics.put(topicKey, { name: 'Product news' });
    const subscribed = await herald.topics.subscribe(topicKey, [user.id, user.id]);
    assert.ok(subscribed.results.length >= 1);
    assert.equal((await herald.topics.get(topicKey)).subscribers, 1);
    assert.deepEqual(
      (await herald.users.topics(user.id)).items.map((topic) => topic.key),
      [topicKey],
    );
    await herald.topics.unsubscribe(topicKey, user.id);
    assert.equal((await herald.topics.get(topicKey)).subscribers, 0);
    await herald.flows.delete(flowKey);
  });

  it('throws problem+json answers as typed exceptions', async () => {
    const unknownUser = await herald.notifications
      .send({ userId: uniqueId('nobody'), category: 'billing', title: 'x', body: 'y' })
      .catch((e: unknown) => e);
    assert.ok(unknownUser instanceof ValidationProblem, String(unknownUser));
    assert.equal(unknownUser.problem, 'unknown-user');
    assert.equal(unknownUser.status, 422);
    assert.match(unknownUser.requestId ?? '', /.+/);

    const invalid = await herald.users.create({ externalId: '' }).catch((e: unknown) => e);
    assert.ok(invalid instanceof ValidationProblem);
    assert.equal(invalid.problem, 'validation-error');
    assert.deepEqual(
      invalid.errors.map((e) => e.field),
      ['externalId'],
    );

    const missing = await herald.notifications.get(crypto.randomUUID()).catch((e: unknown) => e);
    assert.ok(missing instanceof NotFoundProblem);
    assert.ok(missing instanceof HeraldProblem);
    assert.equal(missing.type, 'https://herald.dev/problems/not-found');

    const input = { userId: (await newUser()).id, category: 'a', title: 'x', body: 'y', sendAt: SEND_AT };
    const { idempotencyKey } = await herald.notifications.send(input);
    const reused = await herald.notifications
      .send({ ...input, body: 'another body' }, { idempotencyKey })
      .catch((e: unknown) => e);
    assert.ok(reused instanceof HeraldProblem);
    assert.equal(reused.problem, 'idempotency-key-reused');
  });

  it('iterates every page of a listing with the cursor, newest first', async () => {
    const user = await newUser();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++)
      sent.push(
        (
          await herald.notifications.send({
            userId: user.id,
            category: 'digest',
            title: `n${i}`,
            body: 'b',
            sendAt: SEND_AT,
          })
        ).id,
      );

    const firstPage = await herald.notifications.listPage({ userId: user.id, limit: 2 });
    assert.equal(firstPage.items.length, 2);
    assert.ok(firstPage.nextCursor);

    const seen: string[] = [];
    for await (const notification of herald.notifications.list({ userId: user.id, limit: 2 }))
      seen.push(notification.id);
    assert.deepEqual(seen, [...sent].reverse());
  });

  it('verifies a real delivery-status webhook with verifyWebhook, and refuses an altered one', async () => {
    const endpoint = await herald.webhooks.create({
      url: `${receiver.url}/client`,
      events: ['notification.sent'],
    });
    const user = await newUser();
    const { id } = await herald.notifications.send({
      userId: user.id,
      category: 'billing',
      title: 'Paid',
      body: 'Thanks',
      channels: ['email'],
    });
    const hook = await receiver.waitFor((h) => h.body.includes(id));

    const event = verifyWebhook(endpoint.secret, hook.headers, hook.body);
    assert.equal(event.type, 'notification.sent');
    assert.equal(event.data.notificationId, id);
    assert.equal(event.id, hook.headers['webhook-id']);
    // fetch's Headers work as well as node:http's object.
    assert.equal(
      verifyWebhook(endpoint.secret, new Headers(hook.headers as Record<string, string>), hook.body).id,
      event.id,
    );

    assert.throws(
      () => verifyWebhook(endpoint.secret, hook.headers, hook.body.replace('sent', 'failed')),
      WebhookVerificationError,
    );
    assert.throws(
      () => verifyWebhook(`whsec_${Buffer.alloc(32).toString('base64')}`, hook.headers, hook.body),
      WebhookVerificationError,
    );
    // Signed by Herald's own code, but ten minutes ago: a replay.
    const stale = signWebhook(endpoint.secret, event.id, Math.floor(Date.now() / 1000) - 600, hook.body);
    assert.throws(() => verifyWebhook(endpoint.secret, stale, hook.body), WebhookVerificationError);

    // Left registered, it would keep later tests' workflows retrying a closed receiver.
    await herald.webhooks.delete(endpoint.id);
    assert.deepEqual((await herald.webhooks.list()).items, []);
  });
});
