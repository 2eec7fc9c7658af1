// Push to Android phones through FCM HTTP v1, against a local FCM over HTTPS whose token endpoint verifies
// the service account's signed assertion, and the real database: the access token's reuse, the message,
// and what each FCM answer does to the delivery and the device.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import type { Recipient } from '../../src/activities/channels/channel.js';
import { createPushChannel, pushChannel, pushTopic } from '../../src/activities/channels/push/index.js';
import { FCM_SCOPE, readServiceAccount } from '../../src/activities/channels/push/google-auth.js';
import { ConfigError } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { createDb } from '../../src/store/db.js';
import { startFcmFake, type FcmFake, type FcmFailure } from '../../tools/fakes/fcm-fake.js';
import {
  createBrowserSubscription,
  startPushEndpoint,
  type PushEndpoint,
} from '../../tools/fakes/push-endpoint.js';
import { cutOffSend, failureOf, pushMessage, storedDevice, userWithPhones } from '../support/push-devices.js';
import { testEnv } from '../support/stack.js';

const config = testEnv();
const db = createDb(config.databaseUrl);
const logger = createLogger('test', 'silent');
const TTL = 3600;

let fcm: FcmFake;
let push: ReturnType<typeof createPushChannel>;

const channelFor = (fake: FcmFake, extra: { now?: () => number; serviceAccount?: string } = {}) =>
  createPushChannel({
    fcm: {
      serviceAccount: readServiceAccount(extra.serviceAccount ?? JSON.stringify(fake.serviceAccount)),
      apiUrl: fake.url,
      now: extra.now,
    },
    ttlSeconds: TTL,
    db,
    logger,
    outbound: config.outbound,
    ca: fake.ca,
  });

before(async () => {
  fcm = await startFcmFake();
  push = channelFor(fcm);
});
after(async () => {
  await push?.close();
  await fcm?.stop();
  await db.$disconnect();
});

const phone = (count = 1) => userWithPhones(db, 'fcm', count);
const sendsTo = (token: string) => fcm.requests.filter((r) => r.message?.token === token);
const failedSend = (recipient: Recipient, channel = push) => failureOf(channel, recipient);

describe('FCM', () => {
  it('gets one access token with an assertion the token endpoint verifies, and sends many with it', async () => {
    const fresh = await startFcmFake();
    const channel = channelFor(fresh);
    try {
      const { recipient } = await phone(3);
      for (let i = 0; i < 4; i++)
        assert.equal(
          (await channel.send(recipient, pushMessage())).providerMessageId,
          '3/3 devices accepted',
        );
      assert.equal(fresh.requests.length, 12);
      assert.equal(fresh.tokenRequests.length, 1, 'one token request for twelve sends');
      const [tokenRequest] = fresh.tokenRequests;
      assert.equal(tokenRequest!.status, 200, tokenRequest!.error);
      const claims = tokenRequest!.claims!;
      assert.equal(claims.iss, fresh.serviceAccount.client_email);
      assert.equal(claims.aud, fresh.serviceAccount.token_uri);
      assert.equal(claims.scope, FCM_SCOPE);
      assert.equal(new Set(fresh.requests.map((r) => r.accessToken)).size, 1);
    } finally {
      await channel.close();
      await fresh.stop();
    }
  });

  it('sends the notification, the data as strings, and the TTL and collapse key', async () => {
    const { recipient, rows } = await phone();
    const sent = pushMessage({ url: 'https://app.example/invoices/42', invoice: 42 });
    assert.equal((await push.send(recipient, sent)).providerMessageId, '1/1 devices accepted');
    const [request] = sendsTo(rows[0]!.token);
    assert.equal(request!.status, 200);
    assert.deepEqual(request!.message, {
      token: rows[0]!.token,
      notification: { title: sent.title, body: sent.body },
      data: {
        notificationId: sent.notificationId,
        category: 'billing',
        url: 'https://app.example/invoices/42',
        data: JSON.stringify(sent.data),
      },
      android: {
        ttl: `${TTL}s`,
        collapse_key: pushTopic(sent.notificationId),
        notification: { tag: pushTopic(sent.notificationId) },
      },
    });
  });

  it('renews the access token before it expires', async () => {
    const fresh = await startFcmFake();
    // The first token is fetched 56 minutes "ago": by now it is within five minutes of its end.
    let clock = Date.now() - 56 * 60_000;
    const channel = channelFor(fresh, { now: () => clock });
    try {
      const { recipient } = await phone();
      await channel.send(recipient, pushMessage());
      await channel.send(recipient, pushMessage());
      assert.equal(fresh.tokenRequests.length, 1);
      clock = Date.now();
      await channel.send(recipient, pushMessage());
      assert.equal(fresh.tokenRequests.length, 2);
      assert.ok(fresh.tokenRequests.every((r) => r.status === 200));
    } finally {
      await channel.close();
      await fresh.stop();
    }
  });

  it('fetches a new access token after FCM refused one (401), on the next send', async () => {
    const fresh = await startFcmFake();
    const channel = channelFor(fresh);
    try {
      const { recipient } = await phone();
      await channel.send(recipient, pushMessage());
      fresh.revokeAccessTokens();
      const failure = await failedSend(recipient, channel);
      assert.deepEqual(failure, {
        permanent: false,
        reason: 'FCM 401: UNAUTHENTICATED (access token refused)',
      });
      assert.equal((await channel.send(recipient, pushMessage())).providerMessageId, '1/1 devices accepted');
      assert.equal(fresh.tokenRequests.length, 2);
    } finally {
      await channel.close();
      await fresh.stop();
    }
  });

  it('is refused by the token endpoint when the assertion is signed with another key: permanent', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = JSON.stringify({
      ...fcm.serviceAccount,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
    const before = fcm.tokenRequests.length;
    const channel = channelFor(fcm, { serviceAccount: forged });
    try {
      const { recipient } = await phone();
      assert.deepEqual(await failedSend(recipient, channel), {
        permanent: true,
        reason: 'FCM token endpoint 400: invalid_grant (check FCM_SERVICE_ACCOUNT)',
      });
      const refused = fcm.tokenRequests.slice(before);
      assert.deepEqual(
        refused.map((r) => [r.status, r.error]),
        [[400, 'invalid_grant']],
      );
    } finally {
      await channel.close();
    }
  });

  it('deactivates a device FCM calls UNREGISTERED; the failure is permanent when it was the only one', async () => {
    const { recipient, rows } = await phone();
    fcm.unregister(rows[0]!.token);
    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, true);
    assert.match(failure.reason, /every push device is gone \(FCM 404: UNREGISTERED/);
    const row = await storedDevice(db, rows[0]!.id);
    assert.equal(row.active, false);
    assert.ok(row.deactivatedAt);
  });

  it('deactivates a device whose token FCM calls invalid, and keeps one refused for another reason', async () => {
    const bad = await phone();
    fcm.failNext(1, { status: 400, badToken: true });
    assert.match(
      (await failedSend(bad.recipient)).reason,
      /FCM 400: INVALID_ARGUMENT \(invalid registration token\)/,
    );
    assert.equal((await storedDevice(db, bad.rows[0]!.id)).active, false);

    const tooBig = await phone();
    fcm.failNext(1, { status: 400, message: 'Message is too big' });
    assert.deepEqual(await failedSend(tooBig.recipient), {
      permanent: true,
      reason: 'FCM 400: INVALID_ARGUMENT',
    });
    assert.equal((await storedDevice(db, tooBig.rows[0]!.id)).active, true);
  });

  const answers: { failure: FcmFailure; permanent: boolean; reason: string; retryAfterMs?: number }[] = [
    {
      failure: { status: 429, retryAfter: 7 },
      permanent: false,
      reason: 'FCM 429: QUOTA_EXCEEDED',
      retryAfterMs: 7000,
    },
    {
      failure: { status: 503, retryAfter: 3 },
      permanent: false,
      reason: 'FCM 503: UNAVAILABLE',
      retryAfterMs: 3000,
    },
    { failure: { status: 500 }, permanent: false, reason: 'FCM 500: INTERNAL' },
    {
      failure: { status: 403 },
      permanent: true,
      reason: 'FCM 403: SENDER_ID_MISMATCH (a token of another Firebase project: check FCM_SERVICE_ACCOUNT)',
    },
    {
      failure: { status: 401, errorCode: 'THIRD_PARTY_AUTH_ERROR' },
      permanent: true,
      reason: "FCM 401: THIRD_PARTY_AUTH_ERROR (Firebase's APNs or web push credentials were refused)",
    },
  ];
  for (const { failure, ...expected } of answers) {
    it(`treats ${[failure.status, failure.errorCode].filter(Boolean).join(' ')} as ${expected.permanent ? 'permanent' : 'transient'} and keeps the device`, async () => {
      const { recipient, rows } = await phone();
      fcm.failNext(1, failure);
      assert.deepEqual(await failedSend(recipient), expected);
      assert.equal((await storedDevice(db, rows[0]!.id)).active, true);
    });
  }

  it('stops talking to FCM when the attempt runs out, and the failure is transient', async () => {
    const { recipient } = await phone();
    await push.send(recipient, pushMessage());
    fcm.delayNext(1, 5_000);
    const { failure, tookMs } = await cutOffSend(push, recipient);
    assert.ok(tookMs < 2_000, `stopped after ${tookMs} ms`);
    assert.deepEqual(failure, { permanent: false, reason: 'FCM network error (ABORT_ERR)' });
  });

  it('counts a send as done when a browser accepts and the phone is gone', async () => {
    const endpoint: PushEndpoint = await startPushEndpoint();
    const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@herald.test' };
    const both = createPushChannel({
      vapid,
      fcm: { serviceAccount: readServiceAccount(JSON.stringify(fcm.serviceAccount)), apiUrl: fcm.url },
      ttlSeconds: TTL,
      db,
      logger,
      outbound: config.outbound,
      ca: fcm.ca,
    });
    try {
      const { recipient, rows, user } = await phone();
      const browser = createBrowserSubscription(endpoint.endpointUrl(user.id)).subscription;
      const subscription = await db.pushSubscription.create({
        data: { userId: user.id, endpoint: browser.endpoint, ...browser.keys },
      });
      recipient.pushSubscriptions = [{ id: subscription.id, endpoint: browser.endpoint, ...browser.keys }];
      fcm.unregister(rows[0]!.token);
      assert.equal(
        (await both.send(recipient, pushMessage())).providerMessageId,
        '1/2 subscriptions and devices accepted',
      );
      assert.equal((await storedDevice(db, rows[0]!.id)).active, false);
      assert.equal(endpoint.received.filter((r) => r.path === new URL(browser.endpoint).pathname).length, 1);
    } finally {
      await both.close();
      await endpoint.stop();
    }
  });
});

describe('FCM configuration', () => {
  it('turns the push channel on alone, and reads the service account from a file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-fcm-'));
    try {
      const file = path.join(dir, 'service-account.json');
      writeFileSync(file, JSON.stringify(fcm.serviceAccount));
      const configured = testEnv({ FCM_SERVICE_ACCOUNT: file, FCM_API_URL: fcm.url });
      assert.equal(pushChannel.isConfigured(configured), true);
      const channel = pushChannel.create(configured, { db, logger, ca: fcm.ca });
      try {
        const { recipient } = await phone();
        assert.equal(
          (await channel.send(recipient, pushMessage())).providerMessageId,
          '1/1 devices accepted',
        );
      } finally {
        await channel.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops the worker on a service account that cannot be used, naming the variable', () => {
    for (const value of ['/nonexistent/service-account.json', '{"type": "service_account"}', '{not json']) {
      const configured = testEnv({ FCM_SERVICE_ACCOUNT: value });
      assert.throws(
        () => pushChannel.create(configured, { db, logger }),
        (error: unknown) =>
          error instanceof ConfigError && error.problems.every((p) => p.variable === 'FCM_SERVICE_ACCOUNT'),
        value,
      );
    }
  });

  it('leaves phones out, and says so, when only browsers are configured', async () => {
    const vapid = webpush.generateVAPIDKeys();
    const browsersOnly = createPushChannel({
      vapid: { ...vapid, subject: 'mailto:ops@herald.test' },
      ttlSeconds: TTL,
      db,
      logger,
      outbound: config.outbound,
    });
    try {
      const { recipient } = await phone();
      assert.deepEqual(await failedSend(recipient, browsersOnly), {
        permanent: true,
        reason: "no provider is configured for the user's push subscriptions and devices",
      });
    } finally {
      await browsersOnly.close();
    }
  });
});
