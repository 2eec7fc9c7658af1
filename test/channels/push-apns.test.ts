// Push to iPhones through APNs, against a local APNs over HTTP/2 and TLS that verifies the ES256 provider
// token against the key's public key, and the real database: the request as Apple documents it, the
// token's reuse, and what each APNs answer does to the delivery and the device.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Recipient } from '../../src/activities/channels/channel.js';
import { readApnsKey } from '../../src/activities/channels/push/apns.js';
import { createPushChannel, pushChannel, pushTopic } from '../../src/activities/channels/push/index.js';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { createDb } from '../../src/store/db.js';
import { freePort } from '../../tools/local-stack/ports.js';
import { startApnsFake, type ApnsFailure, type ApnsFake } from '../../tools/fakes/apns-fake.js';
import { cutOffSend, failureOf, pushMessage, storedDevice, userWithPhones } from '../support/push-devices.js';
import { testEnv } from '../support/stack.js';

const config = testEnv();
const db = createDb(config.databaseUrl);
const logger = createLogger('test', 'silent');
const TTL = 3600;

let apns: ApnsFake;
let push: ReturnType<typeof createPushChannel>;

const channelFor = (fake: ApnsFake, extra: { now?: () => number; key?: string; apiUrl?: string } = {}) =>
  createPushChannel({
    apns: {
      key: readApnsKey(extra.key ?? fake.key),
      keyId: fake.keyId,
      teamId: fake.teamId,
      topic: fake.topic,
      apiUrl: extra.apiUrl ?? fake.url,
      now: extra.now,
    },
    ttlSeconds: TTL,
    db,
    logger,
    outbound: config.outbound,
    ca: fake.ca,
  });

before(async () => {
  apns = await startApnsFake();
  push = channelFor(apns);
});
after(async () => {
  await push?.close();
  await apns?.stop();
  await db.$disconnect();
});

const iphone = (count = 1) => userWithPhones(db, 'apns', count);
const requestsTo = (fake: ApnsFake, token: string) => fake.requests.filter((r) => r.token === token);
const failedSend = (recipient: Recipient, channel = push) => failureOf(channel, recipient);

describe('APNs', () => {
  it('sends over HTTP/2 with a provider token the fake verifies, and the headers and payload Apple documents', async () => {
    const { recipient, rows } = await iphone();
    const sent = pushMessage({ url: 'https://app.example/invoices/42', invoice: 42 });
    const before = Math.floor(Date.now() / 1000);
    assert.equal((await push.send(recipient, sent)).providerMessageId, '1/1 devices accepted');
    const [request] = requestsTo(apns, rows[0]!.token);
    assert.equal(request!.status, 200, request!.reason);
    assert.ok(request!.apnsId);
    const { expiration, ...headers } = request!.headers;
    assert.deepEqual(headers, {
      topic: apns.topic,
      pushType: 'alert',
      collapseId: pushTopic(sent.notificationId),
      priority: '10',
    });
    const expires = Number(expiration);
    assert.ok(expires >= before + TTL && expires <= before + TTL + 5, `apns-expiration ${expiration}`);
    assert.deepEqual(request!.payload, {
      aps: { alert: { title: sent.title, body: sent.body }, 'thread-id': 'billing' },
      notificationId: sent.notificationId,
      category: 'billing',
      url: 'https://app.example/invoices/42',
      data: sent.data,
    });
  });

  it('reuses one provider token across sends and devices', async () => {
    const fresh = await startApnsFake();
    const channel = channelFor(fresh);
    try {
      const { recipient } = await iphone(3);
      for (let i = 0; i < 4; i++)
        assert.equal(
          (await channel.send(recipient, pushMessage())).providerMessageId,
          '3/3 devices accepted',
        );
      assert.equal(fresh.requests.length, 12);
      assert.ok(fresh.requests.every((r) => r.status === 200));
      assert.equal(new Set(fresh.requests.map((r) => r.providerToken)).size, 1);
    } finally {
      await channel.close();
      await fresh.stop();
    }
  });

  it('signs a new provider token after 50 minutes, before APNs would call it expired', async () => {
    const fresh = await startApnsFake();
    let clock = Date.now() - 55 * 60_000;
    const channel = channelFor(fresh, { now: () => clock });
    try {
      const { recipient } = await iphone();
      await channel.send(recipient, pushMessage());
      clock = Date.now();
      await channel.send(recipient, pushMessage());
      assert.deepEqual(
        fresh.requests.map((r) => r.status),
        [200, 200],
      );
      assert.equal(new Set(fresh.requests.map((r) => r.providerToken)).size, 2);
    } finally {
      await channel.close();
      await fresh.stop();
    }
  });

  it('is refused with InvalidProviderToken when signed with another key: permanent, and the device kept', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const channel = channelFor(apns, { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
    try {
      const { recipient, rows } = await iphone();
      assert.deepEqual(await failedSend(recipient, channel), {
        permanent: true,
        reason: 'APNs 403: InvalidProviderToken (check APNS_KEY, APNS_KEY_ID and APNS_TEAM_ID)',
      });
      assert.equal((await storedDevice(db, rows[0]!.id)).active, true);
    } finally {
      await channel.close();
    }
  });

  it('treats a provider token older than an hour (ExpiredProviderToken) as transient', async () => {
    const channel = channelFor(apns, { now: () => Date.now() - 61 * 60_000 });
    try {
      const { recipient } = await iphone();
      assert.deepEqual(await failedSend(recipient, channel), {
        permanent: false,
        reason: 'APNs 403: ExpiredProviderToken',
      });
    } finally {
      await channel.close();
    }
  });

  it('deactivates a device APNs calls Unregistered (410); the failure is permanent when it was the only one', async () => {
    const { recipient, rows } = await iphone();
    apns.unregister(rows[0]!.token);
    const failure = await failedSend(recipient);
    assert.equal(failure.permanent, true);
    assert.match(failure.reason, /every push device is gone \(APNs 410: Unregistered/);
    const row = await storedDevice(db, rows[0]!.id);
    assert.equal(row.active, false);
    assert.ok(row.deactivatedAt);
  });

  it('deactivates a device APNs calls a BadDeviceToken, and keeps one refused for its topic', async () => {
    const bad = await iphone();
    apns.failNext(1, { status: 400, reason: 'BadDeviceToken' });
    assert.match((await failedSend(bad.recipient)).reason, /APNs 400: BadDeviceToken/);
    assert.equal((await storedDevice(db, bad.rows[0]!.id)).active, false);

    const otherApp = await iphone();
    apns.failNext(1, { status: 400, reason: 'DeviceTokenNotForTopic' });
    assert.deepEqual(await failedSend(otherApp.recipient), {
      permanent: true,
      reason: 'APNs 400: DeviceTokenNotForTopic (check APNS_TOPIC)',
    });
    assert.equal((await storedDevice(db, otherApp.rows[0]!.id)).active, true);
  });

  const answers: { failure: ApnsFailure; permanent: boolean; reason: string; retryAfterMs?: number }[] = [
    {
      failure: { status: 429, reason: 'TooManyRequests' },
      permanent: false,
      reason: 'APNs 429: TooManyRequests',
    },
    {
      failure: { status: 503, reason: 'ServiceUnavailable', retryAfter: 4 },
      permanent: false,
      reason: 'APNs 503: ServiceUnavailable',
      retryAfterMs: 4000,
    },
    {
      failure: { status: 500, reason: 'InternalServerError' },
      permanent: false,
      reason: 'APNs 500: InternalServerError',
    },
    {
      failure: { status: 413, reason: 'PayloadTooLarge' },
      permanent: true,
      reason: 'APNs 413: PayloadTooLarge',
    },
  ];
  for (const { failure, ...expected } of answers) {
    it(`treats ${failure.status} ${failure.reason} as ${expected.permanent ? 'permanent' : 'transient'} and keeps the device`, async () => {
      const { recipient, rows } = await iphone();
      apns.failNext(1, failure);
      assert.deepEqual(await failedSend(recipient), expected);
      assert.equal((await storedDevice(db, rows[0]!.id)).active, true);
    });
  }

  it('stops talking to APNs when the attempt runs out, and the failure is transient', async () => {
    const { recipient } = await iphone();
    await push.send(recipient, pushMessage());
    apns.delayNext(1, 5_000);
    const { failure, tookMs } = await cutOffSend(push, recipient);
    assert.ok(tookMs < 2_000, `stopped after ${tookMs} ms`);
    assert.deepEqual(failure, { permanent: false, reason: 'APNs network error (ABORT_ERR)' });
  });

  it('treats an APNs that cannot be reached as transient', async () => {
    const channel = channelFor(apns, { apiUrl: `https://127.0.0.1:${await freePort()}` });
    try {
      const { recipient } = await iphone();
      assert.deepEqual(await failedSend(recipient, channel), {
        permanent: false,
        reason: 'APNs network error (ECONNREFUSED)',
      });
    } finally {
      await channel.close();
    }
  });
});

describe('APNs configuration', () => {
  const env = (extra: Record<string, string>) => ({
    APNS_KEY_ID: apns.keyId,
    APNS_TEAM_ID: apns.teamId,
    APNS_TOPIC: apns.topic,
    APNS_API_URL: apns.url,
    ...extra,
  });

  it('turns the push channel on alone, with the key as PEM or as a path to the .p8 file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-apns-'));
    try {
      const file = path.join(dir, `AuthKey_${apns.keyId}.p8`);
      writeFileSync(file, apns.key);
      for (const key of [apns.key, file]) {
        const configured = testEnv(env({ APNS_KEY: key }));
        assert.equal(pushChannel.isConfigured(configured), true);
        const channel = pushChannel.create(configured, { db, logger, ca: apns.ca });
        try {
          const { recipient } = await iphone();
          assert.equal(
            (await channel.send(recipient, pushMessage())).providerMessageId,
            '1/1 devices accepted',
          );
        } finally {
          await channel.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops the worker on a key that cannot be used, naming the variable', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsa = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    for (const key of [
      '/nonexistent/AuthKey.p8',
      '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----',
      rsa,
    ]) {
      assert.throws(
        () => pushChannel.create(testEnv(env({ APNS_KEY: key })), { db, logger }),
        (error: unknown) =>
          error instanceof ConfigError && error.problems.every((p) => p.variable === 'APNS_KEY'),
      );
    }
  });

  it('names the APNs variables missing when only some are set', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: config.databaseUrl, APNS_KEY: apns.key, APNS_TOPIC: apns.topic }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.map((p) => p.variable).join() === 'APNS_KEY_ID,APNS_TEAM_ID',
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: config.databaseUrl, APNS_KEY_ID: 'lowercase1' }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((p) => p.variable === 'APNS_KEY_ID'),
    );
  });
});
