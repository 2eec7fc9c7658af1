// Phones on the push channel, end to end on real parts: devices registered through the API, then
// notifications through Temporal to the push worker, to a browser push service and the FCM and APNs
// fakes: Retry-After honoured across attempts, and a device its provider calls gone never called again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import { startApnsFake, type ApnsFake } from '../tools/fakes/apns-fake.js';
import { startFcmFake, type FcmFake } from '../tools/fakes/fcm-fake.js';
import {
  createBrowserSubscription,
  startPushEndpoint,
  type PushEndpoint,
} from '../tools/fakes/push-endpoint.js';
import { apnsToken, deviceApi, fcmToken } from './support/push-devices.js';
import {
  eventually,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

describe('push to phones', () => {
  let endpoint: PushEndpoint;
  let fcm: FcmFake;
  let apns: ApnsFake;
  let herald: RunningStack;

  before(async () => {
    [endpoint, fcm, apns] = await Promise.all([startPushEndpoint(), startFcmFake(), startApnsFake()]);
    const vapid = webpush.generateVAPIDKeys();
    herald = await startHerald(
      testEnv({
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        FCM_SERVICE_ACCOUNT: JSON.stringify(fcm.serviceAccount),
        FCM_API_URL: fcm.url,
        APNS_KEY: apns.key,
        APNS_KEY_ID: apns.keyId,
        APNS_TEAM_ID: apns.teamId,
        APNS_TOPIC: apns.topic,
        APNS_API_URL: apns.url,
        DELIVERY_RETRY_POLICIES: JSON.stringify({
          push: { initialInterval: '200ms', maximumInterval: '2s' },
        }),
      }),
      // One self-signed certificate serves the three fakes.
      { ca: fcm.ca },
    );
  });
  const startedAt = new Date();
  after(async () => {
    // Failed notifications wait in their retry window: they are this file's to end.
    if (herald) await terminateWorkflowsSince(herald.temporal, startedAt, 'test finished');
    await herald?.stop();
    await Promise.all([endpoint?.stop(), fcm?.stop(), apns?.stop()]);
  });

  const { createUser, registered } = deviceApi(() => herald);
  async function notify(userId: string) {
    const res = await herald.api('/v1/notifications', {
      json: { userId, category: 'updates', title: 'Hello', body: 'From Herald', channels: ['push'] },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }
  /** The notification once its outcome is recorded (a failed one then waits in the retry window). */
  const settled = (id: string) =>
    eventually(
      async () => {
        const row = await herald.db.notification.findUniqueOrThrow({
          where: { id },
          include: { deliveries: true },
        });
        return ['sent', 'failed', 'skipped'].includes(row.status) && row;
      },
      { what: `notification ${id} to settle`, timeoutMs: 30_000 },
    );

  describe('delivering', () => {
    it('reaches the browser and both phones of a user with one notification', async () => {
      const user = await createUser();
      const browser = createBrowserSubscription(endpoint.endpointUrl(uniqueId('browser'))).subscription;
      const subscribed = await herald.api(`/v1/users/${user.id}/push-subscriptions`, { json: browser });
      assert.equal(subscribed.status, 201, await subscribed.clone().text());
      const android = fcmToken();
      const iphone = apnsToken();
      await registered(user.id, { provider: 'fcm', token: android });
      await registered(user.id, { provider: 'apns', token: iphone });

      const id = await notify(user.id);
      const row = await settled(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.deliveries[0]!.providerMessageId, '3/3 subscriptions and devices accepted');
      assert.equal(endpoint.received.filter((r) => r.path === new URL(browser.endpoint).pathname).length, 1);
      assert.equal(
        (await fcm.waitFor((r) => r.message?.token === android)).message?.data?.notificationId,
        id,
      );
      assert.equal(
        ((await apns.waitFor((r) => r.token === iphone)).payload as { notificationId: string })
          .notificationId,
        id,
      );
    });

    for (const status of [429, 503]) {
      it(`waits as long as FCM's Retry-After asks after a ${status}, then delivers once`, async () => {
        const user = await createUser();
        const token = fcmToken();
        await registered(user.id, { provider: 'fcm', token });
        fcm.failNext(1, { status, retryAfter: 2 });
        const id = await notify(user.id);
        const row = await settled(id);
        assert.equal(row.status, 'sent');
        assert.equal(row.deliveries[0]!.attempts, 2);
        const calls = fcm.requests.filter((r) => r.message?.token === token);
        assert.deepEqual(
          calls.map((r) => r.status),
          [status, 200],
        );
        // The policy's own interval is 200 ms; FCM asked for 2 s.
        assert.ok(calls[1]!.at - calls[0]!.at >= 1_900, `waited ${calls[1]!.at - calls[0]!.at} ms`);
      });
    }

    for (const failure of [
      { status: 429, reason: 'TooManyRequests' },
      { status: 503, reason: 'ServiceUnavailable' },
    ]) {
      it(`retries APNs after a ${failure.status} and delivers once`, async () => {
        const user = await createUser();
        const token = apnsToken();
        await registered(user.id, { provider: 'apns', token });
        apns.failNext(1, failure);
        const row = await settled(await notify(user.id));
        assert.equal(row.status, 'sent');
        assert.deepEqual(
          apns.requests.filter((r) => r.token === token).map((r) => r.status),
          [failure.status, 200],
        );
      });
    }

    for (const provider of ['fcm', 'apns'] as const) {
      it(`deactivates a device ${provider === 'fcm' ? 'FCM calls UNREGISTERED' : 'APNs calls Unregistered (410)'}, and the next notification does not call it`, async () => {
        const user = await createUser();
        const token = provider === 'fcm' ? fcmToken() : apnsToken();
        const device = await registered(user.id, { provider, token });
        if (provider === 'fcm') fcm.unregister(token);
        else apns.unregister(token);
        const calls = () =>
          provider === 'fcm'
            ? fcm.requests.filter((r) => r.message?.token === token).length
            : apns.requests.filter((r) => r.token === token).length;

        const first = await settled(await notify(user.id));
        assert.equal(first.status, 'failed');
        assert.match(first.deliveries[0]!.lastError ?? '', /every push device is gone/);
        assert.equal(first.deliveries[0]!.attempts, 1, 'a gone device is final: no retry');
        const row = await herald.db.pushDevice.findUniqueOrThrow({ where: { id: device.id } });
        assert.equal(row.active, false);
        assert.equal(calls(), 1);

        const view = (await (await herald.api(`/v1/users/${user.id}`)).json()) as { pushDevices: unknown[] };
        assert.deepEqual(view.pushDevices, []);
        const second = await settled(await notify(user.id));
        assert.equal(second.deliveries[0]!.status, 'skipped');
        assert.equal(calls(), 1, 'the deactivated device was not called again');
      });
    }
  });
});
