// The Web Push channel against a real HTTPS push endpoint and the real database: what the browser would
// decrypt, the Web Push headers, and what each push service answer does to the delivery and subscriptions.
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import type { FailureClass, OutgoingMessage, Recipient } from '../../src/activities/channels/channel.js';
import { createPushChannel, pushChannel, pushTopic } from '../../src/activities/channels/push/index.js';
import { ConfigError } from '../../src/platform/config.js';
import { mapBounded } from '../../src/platform/bounded.js';
import { createDb } from '../../src/store/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { freePort } from '../../tools/local-stack/ports.js';
import {
  createBrowserSubscription,
  startPushEndpoint,
  type BrowserSubscription,
  type PushAnswer,
  type PushEndpoint,
} from '../../tools/fakes/push-endpoint.js';
import { testEnv, uniqueId } from '../support/stack.js';

const config = testEnv();
const db = createDb(config.databaseUrl);
const logger = createLogger('test', 'silent');
const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@herald.test' };
const TTL = 3600;

let endpoint: PushEndpoint;
let push: ReturnType<typeof createPushChannel>;

before(async () => {
  endpoint = await startPushEndpoint();
  push = createPushChannel({
    vapid,
    ttlSeconds: TTL,
    db,
    logger,
    outbound: config.outbound,
    agent: endpoint.agent,
  });
});
after(async () => {
  await push.close();
  await endpoint.stop();
  await db.$disconnect();
});

const message = (data: Record<string, unknown> = {}): OutgoingMessage => ({
  notificationId: crypto.randomUUID(),
  category: 'billing',
  title: 'Invoice #42',
  body: 'Your invoice is ready.\nThank you — ünïcödé ✓',
  data,
});

/** A user with one browser subscription per given endpoint URL, stored as the API would store them. */
async function userWith(endpoints: string[]) {
  const user = await db.user.create({ data: { externalId: uniqueId() } });
  const browsers: BrowserSubscription[] = [];
  const rows = [];
  for (const url of endpoints) {
    const browser = createBrowserSubscription(url);
    const { keys } = browser.subscription;
    browsers.push(browser);
    rows.push(
      await db.pushSubscription.create({
        data: { userId: user.id, endpoint: url, p256dh: keys.p256dh, auth: keys.auth },
      }),
    );
  }
  const recipient: Recipient = {
    id: user.id,
    contacts: {},
    locale: 'en',
    linkVersion: 0,
    pushSubscriptions: rows.map(({ id, endpoint, p256dh, auth }) => ({ id, endpoint, p256dh, auth })),
  };
  return { recipient, browsers, rows };
}

const newEndpoint = () => endpoint.endpointUrl(uniqueId('sub'));
const pathOf = (url: string) => new URL(url).pathname;
const stored = (id: string) => db.pushSubscription.findUniqueOrThrow({ where: { id } });

/** Sends and expects a failure; returns how the channel classifies it. */
async function failedSend(recipient: Recipient) {
  const error = await push.send(recipient, message()).then(
    () => assert.fail('the send should have failed'),
    (e: unknown) => e,
  );
  return push.classify(error);
}

describe('push channel', () => {
  it('sends the payload encrypted for the browser, with TTL, Topic, Urgency and VAPID', async () => {
    const url = newEndpoint();
    const { recipient, browsers } = await userWith([url]);
    const sent = message({ url: 'https://app.example/invoices/42', invoice: 42 });

    const result = await push.send(recipient, sent);
    assert.equal(result.providerMessageId, '1/1 subscriptions accepted');

    const request = await endpoint.waitFor((r) => r.path === pathOf(url));
    assert.deepEqual(JSON.parse(browsers[0]!.decrypt(request.body).toString('utf8')), {
      notificationId: sent.notificationId,
      title: sent.title,
      body: sent.body,
      url: 'https://app.example/invoices/42',
      data: { url: 'https://app.example/invoices/42', invoice: 42 },
      category: 'billing',
    });
    assert.equal(request.headers.ttl, String(TTL));
    assert.equal(request.headers.urgency, 'normal');
    assert.equal(request.headers.contentEncoding, 'aes128gcm');
    assert.equal(request.headers.topic, pushTopic(sent.notificationId));
    assert.match(request.headers.topic!, /^[A-Za-z0-9_-]{1,32}$/);

    // RFC 8292: `vapid t=<JWT signed with the private key>, k=<public key>`, audience = the push service.
    const match = /^vapid t=([^,]+), k=(.+)$/.exec(request.headers.authorization ?? '');
    assert.ok(match, request.headers.authorization);
    assert.equal(match[2], vapid.publicKey);
    const [header, claims, signature] = match[1]!.split('.') as [string, string, string];
    const raw = Buffer.from(vapid.publicKey, 'base64url');
    const key = createPublicKey({
      format: 'jwk',
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33).toString('base64url'),
      },
    });
    assert.ok(
      verify(
        'sha256',
        Buffer.from(`${header}.${claims}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
      'the VAPID JWT is signed with the private key',
    );
    const jwt = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
    assert.equal(jwt.aud, endpoint.origin);
    assert.equal(jwt.sub, vapid.subject);
    assert.ok(jwt.exp * 1000 > Date.now());
  });

  it('leaves url out when data.url is not a string, and reuses the topic on a resend', async () => {
    const url = newEndpoint();
    const { recipient, browsers } = await userWith([url]);
    const sent = message({ url: 42 });
    await push.send(recipient, sent);
    await push.send(recipient, sent);
    const requests = endpoint.received.filter((r) => r.path === pathOf(url));
    assert.equal(requests.length, 2);
    assert.equal(requests[0]!.headers.topic, requests[1]!.headers.topic);
    assert.notEqual(requests[0]!.headers.topic, pushTopic(crypto.randomUUID()));
    const payload = JSON.parse(browsers[0]!.decrypt(requests[1]!.body).toString('utf8'));
    assert.equal('url' in payload, false);
    assert.deepEqual(payload.data, { url: 42 });
  });

  it('deactivates a subscription answering 410; when it was the only one, the failure is permanent', async () => {
    const url = newEndpoint();
    const { recipient, rows } = await userWith([url]);
    endpoint.answerNext(url, 410);

    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, true);
    assert.match(failure.reason, /every push subscription is gone/);
    assert.match(failure.reason, /push 410: subscription gone/);
    const row = await stored(rows[0]!.id);
    assert.equal(row.active, false);
    assert.ok(row.deactivatedAt);
  });

  it('treats 404 like 410', async () => {
    const url = newEndpoint();
    const { recipient, rows } = await userWith([url]);
    endpoint.answerNext(url, 404);
    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, true);
    assert.match(failure.reason, /push 404: subscription gone/);
    assert.equal((await stored(rows[0]!.id)).active, false);
  });

  it('counts a send as done when one subscription accepts and another is gone', async () => {
    const [gone, alive] = [newEndpoint(), newEndpoint()];
    const { recipient, browsers, rows } = await userWith([gone, alive]);
    endpoint.answerNext(gone, 410);
    const sent = message();

    const result = await push.send(recipient, sent);
    assert.equal(result.providerMessageId, '1/2 subscriptions accepted');
    assert.equal((await stored(rows[0]!.id)).active, false);
    const aliveRow = await stored(rows[1]!.id);
    assert.equal(aliveRow.active, true);
    assert.equal(aliveRow.deactivatedAt, null);
    const request = await endpoint.waitFor((r) => r.path === pathOf(alive));
    assert.equal(
      JSON.parse(browsers[1]!.decrypt(request.body).toString('utf8')).notificationId,
      sent.notificationId,
    );
  });

  it('counts a send as done when one subscription accepts and another answers 500', async () => {
    const [failing, alive] = [newEndpoint(), newEndpoint()];
    const { recipient, rows } = await userWith([failing, alive]);
    endpoint.answerNext(failing, 500);
    const result = await push.send(recipient, message());
    assert.equal(result.providerMessageId, '1/2 subscriptions accepted');
    assert.equal((await stored(rows[0]!.id)).active, true);
  });

  const answers: { answer: number | PushAnswer; expected: FailureClass }[] = [
    { answer: 500, expected: { permanent: false, reason: 'push 500: push service error' } },
    { answer: 413, expected: { permanent: true, reason: 'push 413: payload too large' } },
    {
      answer: { status: 403, body: 'invalid JWT' },
      expected: { permanent: true, reason: 'push 403: VAPID credentials rejected' },
    },
    {
      answer: { status: 429, headers: { 'retry-after': '7' } },
      expected: { permanent: false, reason: 'push 429: rate limited', retryAfterMs: 7000 },
    },
  ];
  for (const { answer, expected } of answers) {
    const status = typeof answer === 'number' ? answer : answer.status;
    it(`treats ${status} as ${expected.permanent ? 'permanent' : 'transient'} and keeps the subscription`, async () => {
      const url = newEndpoint();
      const { recipient, rows } = await userWith([url]);
      endpoint.answerNext(url, answer);
      assert.deepEqual(await failedSend(recipient), expected);
      assert.equal((await stored(rows[0]!.id)).active, true);
    });
  }

  it('retries when one subscription is gone and the other failed transiently', async () => {
    const [gone, failing] = [newEndpoint(), newEndpoint()];
    const { recipient, rows } = await userWith([gone, failing]);
    endpoint.answerNext(gone, 410);
    endpoint.answerNext(failing, 503);
    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, false);
    assert.match(failure.reason, /push 503/);
    assert.equal((await stored(rows[0]!.id)).active, false);
    assert.equal((await stored(rows[1]!.id)).active, true);
  });

  it('treats a push service that cannot be reached as transient', async () => {
    const { recipient } = await userWith([`https://127.0.0.1:${await freePort()}/push/${uniqueId('sub')}`]);
    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, false);
    assert.match(failure.reason, /ECONNREFUSED/);
  });

  it('fails permanently on a subscription whose keys are malformed, without sending', async () => {
    const url = newEndpoint();
    const { recipient } = await userWith([url]);
    recipient.pushSubscriptions[0]!.p256dh = 'not-a-key';
    const failure = await failedSend(recipient);
    assert.deepEqual(failure, { permanent: true, reason: 'push subscription keys are malformed' });
    assert.equal(endpoint.received.filter((r) => r.path === pathOf(url)).length, 0);
  });

  it('fails permanently without any subscription', async () => {
    const { recipient } = await userWith([]);
    assert.equal(pushChannel.hasAddress(recipient), false);
    const failure = await failedSend(recipient);
    assert.deepEqual(failure, {
      permanent: true,
      reason: 'the user has no active push subscription or device',
    });
  });

  it('trusts a CA given as `ca` instead of an agent', async () => {
    const viaCa = createPushChannel({
      vapid,
      ttlSeconds: TTL,
      db,
      logger,
      outbound: config.outbound,
      ca: endpoint.ca,
    });
    try {
      const { recipient } = await userWith([newEndpoint()]);
      assert.equal((await viaCa.send(recipient, message())).providerMessageId, '1/1 subscriptions accepted');
    } finally {
      await viaCa.close();
    }
  });
});

describe('sending to many subscriptions', () => {
  it('keeps at most the limit in flight, and the results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([50, 10, 30, 5, 20, 1, 15, 8, 2], 4, async (ms) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return ms * 2;
    });
    assert.equal(most, 4);
    assert.deepEqual(results, [100, 20, 60, 10, 40, 2, 30, 16, 4]);
    assert.deepEqual(await mapBounded([], 4, async () => 1), []);
  });
});

describe('push channel configuration', () => {
  it('is configured when both VAPID keys are set', () => {
    assert.equal(pushChannel.isConfigured(config), false);
    const configured = testEnv({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey });
    assert.equal(pushChannel.isConfigured(configured), true);
  });

  it('refuses to start with a public key that does not belong to the private key', () => {
    const other = webpush.generateVAPIDKeys();
    assert.throws(
      () =>
        createPushChannel({
          vapid: { ...vapid, publicKey: other.publicKey },
          ttlSeconds: TTL,
          db,
          logger,
          outbound: config.outbound,
        }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((p) => p.variable === 'VAPID_PUBLIC_KEY'),
    );
  });

  it('refuses to start with a malformed private key', () => {
    assert.throws(
      () =>
        createPushChannel({
          vapid: { ...vapid, privateKey: 'not-a-key' },
          ttlSeconds: TTL,
          db,
          logger,
          outbound: config.outbound,
        }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((p) => p.variable === 'VAPID_PRIVATE_KEY'),
    );
  });
});
