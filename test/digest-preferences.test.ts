// Per-category digest preferences through the API: stored, shown, validated (a refusal changes nothing),
// kept by a PUT that does not mention them, and read back by the activity a flow's digest step calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDigestPreference } from '../src/activities/digest-preference.js';
import { createNotificationActivities, type ActivityDeps } from '../src/activities/index.js';
import { digestPreferenceFor } from '../src/domain/digest-preference.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('digest preferences', () => {
  let herald: RunningStack;
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [] });
  });
  after(() => herald?.stop());

  async function createUser(fields: Record<string, unknown> = {}) {
    const res = await herald.api('/v1/users', { json: { externalId: uniqueId('digest'), ...fields } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; externalId: string };
  }
  const putPreferences = (id: string, json: unknown) =>
    herald.api(`/v1/users/${id}/preferences`, { method: 'PUT', json });
  const getPreferences = async (id: string) =>
    (await (await herald.api(`/v1/users/${id}/preferences`)).json()) as {
      digests: unknown[];
      rules: unknown[];
    };

  it('stores each category’s choice, shows it, and keeps it when a PUT leaves digests out', async () => {
    const user = await createUser({ timezone: 'Europe/Berlin' });
    assert.deepEqual((await getPreferences(user.id)).digests, []);
    const digests = [
      { category: 'builds', mode: 'hourly' },
      { category: 'orders', mode: 'daily', hour: 8 },
      { category: '*', mode: 'daily', hour: 18 },
    ];
    const put = await putPreferences(user.id, { rules: [], quietHours: null, digests });
    assert.equal(put.status, 200, await put.clone().text());
    const sorted = [...digests].sort((a, b) => a.category.localeCompare(b.category));
    assert.deepEqual(((await put.json()) as { digests: unknown[] }).digests, sorted);
    assert.deepEqual((await getPreferences(user.externalId)).digests, sorted);

    // A PUT of rules alone (as older clients send) leaves the digests as they were.
    const rules = [{ category: 'orders', channel: 'sms', enabled: false }];
    assert.equal((await putPreferences(user.id, { rules, quietHours: null })).status, 200);
    assert.deepEqual((await getPreferences(user.id)).digests, sorted);

    // What the flow's digest step gets: the category's own, else `*`, in the user's time zone.
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'builds'), { mode: 'hourly' });
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'orders'), {
      mode: 'daily',
      hour: 8,
      timeZone: 'Europe/Berlin',
    });
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'other'), {
      mode: 'daily',
      hour: 18,
      timeZone: 'Europe/Berlin',
    });
    // The user's time zone as it is now.
    await herald.api(`/v1/users/${user.id}`, { method: 'PATCH', json: { timezone: 'America/New_York' } });
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'orders'), {
      mode: 'daily',
      hour: 8,
      timeZone: 'America/New_York',
    });

    // An explicit off overrides `*`; an empty list clears every choice.
    const off = [
      { category: '*', mode: 'hourly' },
      { category: 'orders', mode: 'off' },
    ];
    assert.equal((await putPreferences(user.id, { rules, quietHours: null, digests: off })).status, 200);
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'orders'), { mode: 'off' });
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'builds'), { mode: 'hourly' });
    assert.equal((await putPreferences(user.id, { rules, quietHours: null, digests: [] })).status, 200);
    assert.equal(await herald.db.digestPreference.count({ where: { userId: user.id } }), 0);
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'builds'), { mode: 'off' });
  });

  it('refuses bad choices with 422 naming each, and changes nothing', async () => {
    const user = await createUser();
    const kept = [{ category: 'orders', mode: 'hourly' }];
    assert.equal((await putPreferences(user.id, { rules: [], quietHours: null, digests: kept })).status, 200);
    const cases: [unknown, string][] = [
      [[{ category: 'orders', mode: 'daily' }], 'digests.0.hour'],
      [[{ category: 'orders', mode: 'daily', hour: 24 }], 'digests.0.hour'],
      [[{ category: 'orders', mode: 'daily', hour: 7.5 }], 'digests.0.hour'],
      [[{ category: 'orders', mode: 'hourly', hour: 3 }], 'digests.0'],
      [[{ category: 'orders', mode: 'weekly' }], 'digests.0.mode'],
      [[{ category: 'Orders!', mode: 'off' }], 'digests.0.category'],
      [
        [
          { category: 'a', mode: 'off' },
          { category: 'a', mode: 'hourly' },
        ],
        'digests',
      ],
      ['hourly', 'digests'],
    ];
    for (const [digests, field] of cases) {
      const res = await putPreferences(user.id, { rules: [], quietHours: null, digests });
      assert.equal(res.status, 422, JSON.stringify(digests));
      const { errors } = (await res.json()) as { errors: { field: string }[] };
      assert.ok(
        errors.some((e) => e.field === field),
        `${JSON.stringify(digests)}: ${JSON.stringify(errors)}`,
      );
    }
    assert.deepEqual((await getPreferences(user.id)).digests, kept);
  });

  it('the database refuses a daily digest without its hour, and a user’s choices go with the user', async () => {
    const user = await createUser();
    await assert.rejects(
      herald.db.digestPreference.create({ data: { userId: user.id, category: 'x', mode: 'daily' } }),
      /digest_preferences_hour_check/,
    );
    await herald.db.digestPreference.create({ data: { userId: user.id, category: 'x', mode: 'hourly' } });
    assert.equal((await herald.api(`/v1/users/${user.id}`, { method: 'DELETE' })).status, 204);
    assert.equal(await herald.db.digestPreference.count({ where: { userId: user.id } }), 0);
    assert.deepEqual(await digestPreferenceFor(herald.db, user.id, 'x'), { mode: 'off' });
  });

  it('is an activity of the notifications worker, as a flow calls it', async () => {
    const user = await createUser({ timezone: 'Asia/Tokyo' });
    await putPreferences(user.id, {
      rules: [],
      quietHours: null,
      digests: [{ category: 'orders', mode: 'daily', hour: 9 }],
    });
    // The notifications worker registers exactly this object (src/workers/create-workers.ts).
    const activities = createNotificationActivities({
      db: herald.db,
      temporal: herald.temporal,
      configuredChannels: [],
      mandatoryCategories: [],
      inboxRetentionMs: 0,
    } as unknown as ActivityDeps);
    assert.equal(typeof activities.digestPreference, 'function');
    assert.deepEqual(await activities.digestPreference({ userId: user.id, category: 'orders' }), {
      mode: 'daily',
      hour: 9,
      timeZone: 'Asia/Tokyo',
    });
    assert.deepEqual(await createDigestPreference(herald.db)({ userId: user.id, category: 'news' }), {
      mode: 'off',
    });
  });
});
