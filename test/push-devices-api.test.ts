// Phones registered through the API: POST and DELETE /v1/users/:id/push-devices, the user's list, the
// cap, refusals (422 problem+json, 404, 403) that change nothing, and the preference page counting them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import { createApiKey } from '../src/domain/api-keys.js';
import { preferenceCenterEnv } from './support/preference-center.js';
import { snapshotTables } from './support/db-snapshot.js';
import { apnsToken, deviceApi, fcmToken, type DeviceView } from './support/push-devices.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('registering push devices', () => {
  let herald: RunningStack;
  before(async () => {
    // The API alone: nothing here is delivered. Browser push on, so the page counts browsers and phones.
    const vapid = webpush.generateVAPIDKeys();
    herald = await startHerald(
      testEnv({
        ...preferenceCenterEnv(),
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
      }),
      { queues: [] },
    );
  });
  after(() => herald?.stop());
  const { createUser, register, registered } = deviceApi(() => herald);

  it('registers, lists on the user, and removes devices', async () => {
    const user = await createUser();
    const android = fcmToken();
    const iphone = apnsToken();
    const first = await registered(user.id, { provider: 'fcm', token: android });
    assert.equal(first.provider, 'fcm');
    assert.equal(first.active, true);
    assert.equal(first.token, `…${android.slice(-8)}`, 'only the end of the token is shown');

    // Apple's hex in capitals is the same device: registering it again finds it.
    const second = await registered(user.externalId, { provider: 'apns', token: iphone });
    const again = await register(user.id, { provider: 'apns', token: iphone.toUpperCase() });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as DeviceView).id, second.id);

    const view = (await (await herald.api(`/v1/users/${user.id}`)).json()) as { pushDevices: DeviceView[] };
    assert.deepEqual(
      view.pushDevices.map((d) => [d.id, d.provider]),
      [
        [first.id, 'fcm'],
        [second.id, 'apns'],
      ],
    );
    assert.ok(!JSON.stringify(view).includes(android) && !JSON.stringify(view).includes(iphone));

    const removed = await herald.api(`/v1/users/${user.id}/push-devices/${first.id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    const gone = await herald.api(`/v1/users/${user.id}/push-devices/${first.id}`, { method: 'DELETE' });
    assert.equal(gone.status, 404);
    const after = (await (await herald.api(`/v1/users/${user.id}`)).json()) as {
      pushDevices: DeviceView[];
    };
    assert.deepEqual(
      after.pushDevices.map((d) => d.id),
      [second.id],
    );
  });

  it('labels its requests with the route pattern, never the user id', async () => {
    const user = await createUser();
    const device = await registered(user.id, { provider: 'fcm', token: fcmToken() });
    await herald.api(`/v1/users/${user.id}/push-devices/${device.id}`, { method: 'DELETE' });
    const scraped = await (await fetch(herald.metricsUrl)).text();
    assert.match(scraped, /route="\/v1\/users\/:id\/push-devices",status="201"/);
    assert.match(scraped, /route="\/v1\/users\/:id\/push-devices\/:deviceId",status="204"/);
    assert.ok(!scraped.includes(user.id) && !scraped.includes(device.id));
  });

  it('moves a token to the user who registered it last, and reactivates it', async () => {
    const [first, second] = [await createUser(), await createUser()];
    const token = fcmToken();
    const device = await registered(first.id, { provider: 'fcm', token });
    await herald.db.pushDevice.update({
      where: { id: device.id },
      data: { active: false, deactivatedAt: new Date() },
    });
    const moved = await register(second.id, { provider: 'fcm', token });
    assert.equal(moved.status, 200);
    const row = await herald.db.pushDevice.findUniqueOrThrow({ where: { id: device.id } });
    assert.deepEqual([row.userId, row.active, row.deactivatedAt], [second.id, true, null]);
  });

  it('keeps at most 10 active devices per user, retiring the oldest', async () => {
    const user = await createUser();
    const ids = [];
    for (let i = 0; i < 12; i++)
      ids.push((await registered(user.id, { provider: 'apns', token: apnsToken() })).id);
    const active = await herald.db.pushDevice.findMany({ where: { userId: user.id, active: true } });
    assert.equal(active.length, 10);
    assert.deepEqual(active.map((d) => d.id).sort(), ids.slice(2).sort());
  });

  it('refuses bad input with 422 problem+json, an unknown user with 404, a send key with 403: nothing changes', async () => {
    const user = await createUser();
    const { key: sendKey } = await createApiKey(herald.db, uniqueId('send-only'), ['send']);
    const before = await snapshotTables(herald.db);
    const refusals: [unknown, string[]][] = [
      [{ provider: 'fcm', token: 'has spaces and is far too short' }, ['token']],
      [{ provider: 'apns', token: 'zz'.repeat(32) }, ['token']],
      [{ provider: 'apns', token: 'ab'.repeat(8) }, ['token']],
      [{ provider: 'webos', token: fcmToken() }, ['provider']],
      [{ provider: 'fcm' }, ['token']],
      [{ provider: 'fcm', token: fcmToken(), extra: true }, ['(body)']],
    ];
    for (const [body, fields] of refusals) {
      const res = await register(user.id, body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = (await res.json()) as { errors: { field: string }[] };
      assert.deepEqual(
        problem.errors.map((e) => e.field),
        fields,
        JSON.stringify(problem),
      );
    }
    assert.equal((await register(crypto.randomUUID(), { provider: 'fcm', token: fcmToken() })).status, 404);
    const badId = await herald.api(`/v1/users/${user.id}/push-devices/not-a-uuid`, { method: 'DELETE' });
    assert.equal(badId.status, 422);
    const forbidden = await herald.api(`/v1/users/${user.id}/push-devices`, {
      json: { provider: 'fcm', token: fcmToken() },
      headers: { authorization: `Bearer ${sendKey}` },
    });
    assert.equal(forbidden.status, 403);
    const after = await snapshotTables(herald.db);
    assert.deepEqual(after.push_devices, before.push_devices);
    assert.deepEqual(after.users, before.users);
  });

  it('shows push on the preference page as one channel for browsers and phones, counting the active ones', async () => {
    const user = await createUser();
    const pageState = async () => {
      const link = await herald.api(`/v1/users/${user.id}/preferences-link`, { method: 'POST' });
      assert.equal(link.status, 201);
      const token = new URL(((await link.json()) as { url: string }).url).pathname.split('/').pop()!;
      const res = await fetch(`${herald.apiUrl}/preferences/api/state`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const state = (await res.json()) as {
        channels: { channel: string; available: boolean; detail: string }[];
        labels: Record<string, string>;
      };
      return { push: state.channels.find((c) => c.channel === 'push'), label: state.labels.push };
    };
    assert.deepEqual(await pageState(), {
      push: { channel: 'push', available: true, detail: '0 browsers' },
      label: 'Push (browsers and phones)',
    });

    await registered(user.id, { provider: 'fcm', token: fcmToken() });
    const iphone = await registered(user.id, { provider: 'apns', token: apnsToken() });
    const retired = await registered(user.id, { provider: 'apns', token: apnsToken() });
    await herald.db.pushDevice.update({
      where: { id: retired.id },
      data: { active: false, deactivatedAt: new Date() },
    });
    await herald.db.pushSubscription.create({
      data: { userId: user.id, endpoint: `https://push.example.test/${uniqueId()}`, p256dh: 'k', auth: 'a' },
    });
    assert.deepEqual((await pageState()).push, {
      channel: 'push',
      available: true,
      detail: '1 browser and 2 phones',
    });
    await herald.api(`/v1/users/${user.id}/push-devices/${iphone.id}`, { method: 'DELETE' });
    assert.equal((await pageState()).push?.detail, '1 browser and 1 phone');
  });
});
