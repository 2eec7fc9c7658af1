// Users, preferences (rules and quiet hours) and push subscriptions through the API, on the real stack:
// what the API stores is what the workflow then obeys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBrowserSubscription } from '../tools/fakes/push-endpoint.js';
import { eventually, uniqueId, useEmailStack } from './support/stack.js';

describe('users, preferences and push subscriptions', () => {
  const t = useEmailStack();

  async function createUser(fields: Record<string, unknown> = {}) {
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), ...fields } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; externalId: string };
  }
  const problem = async (res: Response) =>
    (await res.json()) as { type: string; errors?: { field: string }[] };

  it('changes a user with PATCH (null clears a contact) and refuses bad input without changing anything', async () => {
    const user = await createUser({ email: `${uniqueId('u')}@example.test`, phone: '+14155550111' });
    const res = await t.herald.api(`/v1/users/${user.externalId}`, {
      method: 'PATCH',
      json: { phone: null, timezone: 'Europe/Moscow', channelOrder: ['telegram', 'email'] },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.phone, null);
    assert.equal(body.timezone, 'Europe/Moscow');
    assert.deepEqual(body.channelOrder, ['telegram', 'email']);

    const bad = await t.herald.api(`/v1/users/${user.id}`, {
      method: 'PATCH',
      json: { email: 'not-an-email', timezone: 'Mars/Olympus', channelOrder: ['email', 'email'] },
    });
    assert.equal(bad.status, 422);
    assert.deepEqual((await problem(bad)).errors!.map((e) => e.field).sort(), [
      'channelOrder',
      'email',
      'timezone',
    ]);
    const empty = await t.herald.api(`/v1/users/${user.id}`, { method: 'PATCH', json: {} });
    assert.equal(empty.status, 422);
    const row = await t.herald.db.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { contacts: true },
    });
    assert.equal(row.timezone, 'Europe/Moscow');
    assert.ok(row.contacts.find((c) => c.channel === 'email')?.address.endsWith('@example.test'));

    const other = await createUser();
    const taken = await t.herald.api(`/v1/users/${other.id}`, {
      method: 'PATCH',
      json: { externalId: user.externalId },
    });
    assert.equal(taken.status, 409);
  });

  it('stores preferences and quiet hours, and the workflow obeys them', async () => {
    const email = `${uniqueId('prefs')}@example.test`;
    const user = await createUser({ email });
    const prefs = {
      rules: [
        { category: '*', channel: '*', enabled: true },
        { category: 'marketing', channel: 'email', enabled: false },
      ],
      quietHours: { start: '22:00', end: '07:00', timezone: 'Asia/Tokyo' },
    };
    const put = await t.herald.api(`/v1/users/${user.id}/preferences`, { method: 'PUT', json: prefs });
    assert.equal(put.status, 200, await put.clone().text());
    const got = (await (
      await t.herald.api(`/v1/users/${user.externalId}/preferences`)
    ).json()) as typeof prefs;
    assert.deepEqual(
      got.rules,
      [...prefs.rules].sort((a, b) => a.category.localeCompare(b.category)),
    );
    assert.deepEqual(got.quietHours, prefs.quietHours);

    // Opted out of marketing by email: recorded as skipped, nothing sent.
    const res = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'marketing', title: 'Sale', body: 'Now', channels: ['email'] },
    });
    const { id } = (await res.json()) as { id: string };
    await eventually(
      async () => (await t.herald.db.notification.findUnique({ where: { id } }))?.status === 'skipped',
    );

    // Clearing quiet hours and rules.
    const clear = await t.herald.api(`/v1/users/${user.id}/preferences`, {
      method: 'PUT',
      json: { rules: [], quietHours: null },
    });
    assert.equal(clear.status, 200);
    assert.equal(await t.herald.db.quietHours.count({ where: { userId: user.id } }), 0);
    assert.equal(await t.herald.db.preference.count({ where: { userId: user.id } }), 0);
  });

  it('refuses malformed preferences with every field listed, and keeps the old ones', async () => {
    const user = await createUser();
    await t.herald.api(`/v1/users/${user.id}/preferences`, {
      method: 'PUT',
      json: { rules: [{ category: 'billing', channel: 'sms', enabled: false }], quietHours: null },
    });
    const bad = await t.herald.api(`/v1/users/${user.id}/preferences`, {
      method: 'PUT',
      json: {
        rules: [{ category: 'Billing!', channel: 'fax', enabled: 'no' }],
        quietHours: { start: '25:00', end: '07:00', timezone: 'Nowhere/Else' },
      },
    });
    assert.equal(bad.status, 422);
    const fields = (await problem(bad)).errors!.map((e) => e.field);
    for (const field of [
      'rules.0.category',
      'rules.0.channel',
      'rules.0.enabled',
      'quietHours.start',
      'quietHours.timezone',
    ])
      assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);
    const twice = await t.herald.api(`/v1/users/${user.id}/preferences`, {
      method: 'PUT',
      json: {
        rules: [
          { category: 'a', channel: '*', enabled: true },
          { category: 'a', channel: '*', enabled: false },
        ],
        quietHours: null,
      },
    });
    assert.equal(twice.status, 422);
    assert.deepEqual(
      (await problem(twice)).errors!.map((e) => e.field),
      ['rules'],
    );
    const rules = await t.herald.db.preference.findMany({ where: { userId: user.id } });
    assert.deepEqual(
      rules.map((r) => [r.category, r.channel, r.enabled]),
      [['billing', 'sms', false]],
    );
  });

  it('stores a browser push subscription, reactivates it on resubscribe, and removes it', async () => {
    const user = await createUser();
    const { subscription } = createBrowserSubscription(`https://push.example.test/${uniqueId('ep')}`);
    const first = await t.herald.api(`/v1/users/${user.id}/push-subscriptions`, { json: subscription });
    assert.equal(first.status, 201, await first.clone().text());
    const { id } = (await first.json()) as { id: string };
    await t.herald.db.pushSubscription.update({
      where: { id },
      data: { active: false, deactivatedAt: new Date() },
    });
    const again = await t.herald.api(`/v1/users/${user.id}/push-subscriptions`, { json: subscription });
    assert.equal(again.status, 200);
    const row = await t.herald.db.pushSubscription.findUniqueOrThrow({ where: { id } });
    assert.equal(row.active, true);
    assert.equal(row.deactivatedAt, null);

    const insecure = await t.herald.api(`/v1/users/${user.id}/push-subscriptions`, {
      json: { ...subscription, endpoint: 'http://push.example.test/x', keys: { p256dh: 'short', auth: '' } },
    });
    assert.equal(insecure.status, 422);
    assert.deepEqual((await problem(insecure)).errors!.map((e) => e.field).sort(), [
      'endpoint',
      'keys.auth',
      'keys.p256dh',
    ]);

    const removed = await t.herald.api(`/v1/users/${user.id}/push-subscriptions/${id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    const gone = await t.herald.api(`/v1/users/${user.id}/push-subscriptions/${id}`, { method: 'DELETE' });
    assert.equal(gone.status, 404);
  });

  it('answers the VAPID key route with 404 when push is not configured', async () => {
    const res = await t.herald.api('/v1/push/vapid-public-key');
    assert.equal(res.status, 404);
  });

  it('deletes a user with their history and cancels their open notifications', async () => {
    const user = await createUser({ email: `${uniqueId('del')}@example.test` });
    const res = await t.herald.api('/v1/notifications', {
      json: {
        userId: user.id,
        category: 'updates',
        title: 'Later',
        body: 'Scheduled',
        sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    const { id, workflowId } = (await res.json()) as { id: string; workflowId: string };
    const deleted = await t.herald.api(`/v1/users/${user.externalId}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    assert.equal((await t.herald.api(`/v1/users/${user.id}`)).status, 404);
    assert.equal(await t.herald.db.notification.count({ where: { id } }), 0);
    const handle = t.herald.temporal.workflow.getHandle(workflowId);
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', {
      what: 'the workflow to end',
    });
    assert.equal(await handle.result(), 'cancelled');
    assert.equal((await t.herald.api(`/v1/users/${user.id}`, { method: 'DELETE' })).status, 404);
  });

  it('refuses a UUID-shaped externalId (422 naming it, nothing stored), and an id always wins over an externalId', async () => {
    const target = await createUser({ email: `${uniqueId('target')}@example.test` });
    const other = await createUser();
    const users = await t.herald.db.user.count();

    for (const shape of [target.id, target.id.toUpperCase(), ` ${crypto.randomUUID()} `]) {
      const created = await t.herald.api('/v1/users', { json: { externalId: shape } });
      assert.equal(created.status, 422, await created.clone().text());
      assert.deepEqual(
        (await problem(created)).errors!.map((e) => e.field),
        ['externalId'],
      );
      const changed = await t.herald.api(`/v1/users/${other.id}`, {
        method: 'PATCH',
        json: { externalId: shape },
      });
      assert.equal(changed.status, 422, await changed.clone().text());
      assert.deepEqual(
        (await problem(changed)).errors!.map((e) => e.field),
        ['externalId'],
      );
    }
    assert.equal(await t.herald.db.user.count(), users);
    const otherRow = await t.herald.db.user.findUniqueOrThrow({ where: { id: other.id } });
    assert.equal(otherRow.externalId, other.externalId);

    // A row stored before the rule (written past the API) whose externalId is another user's id.
    const shadow = await t.herald.db.user.create({
      data: {
        externalId: target.id,
        contacts: { create: [{ channel: 'email', address: 'shadow@example.test' }] },
      },
    });
    for (let i = 0; i < 5; i++) {
      const read = await t.herald.api(`/v1/users/${target.id}`);
      assert.equal(read.status, 200);
      assert.equal(((await read.json()) as { id: string }).id, target.id);
    }
    const sent = await t.herald.api('/v1/notifications', {
      json: { userId: target.id, category: 'updates', title: 'Hi', body: 'Yours', channels: ['email'] },
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const { id } = (await sent.json()) as { id: string };
    const row = await t.herald.db.notification.findUniqueOrThrow({ where: { id } });
    assert.equal(row.userId, target.id);
    assert.equal(await t.herald.db.notification.count({ where: { userId: shadow.id } }), 0);
    // The shadow is still reached by its own id.
    const byOwnId = await t.herald.api(`/v1/users/${shadow.id}`);
    assert.equal(((await byOwnId.json()) as { id: string }).id, shadow.id);
  });
});
