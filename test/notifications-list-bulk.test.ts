// Listing notifications (filters, cursor pages) and bulk sends (per-recipient results, bounded
// concurrency, idempotency) through the API on the real stack.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, uniqueId, useEmailStack } from './support/stack.js';

interface Page {
  items: { id: string; userId: string; category: string; status: string }[];
  nextCursor: string | null;
}

describe('listing and bulk', () => {
  const t = useEmailStack();

  async function createUser() {
    const email = `${uniqueId('lb')}@example.test`;
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
    return { ...((await res.json()) as { id: string; externalId: string }), email };
  }
  const notify = async (userId: string, category: string) => {
    const res = await t.herald.api('/v1/notifications', {
      json: { userId, category, title: 'T', body: 'B', channels: ['email'] },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  };
  const list = async (query: string) => {
    const res = await t.herald.api(`/v1/notifications?${query}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Page;
  };

  it('lists a user notifications newest first, filters them, and pages with a cursor', async () => {
    const user = await createUser();
    const ids = [];
    for (const category of ['billing', 'orders', 'billing', 'orders', 'billing'])
      ids.push(await notify(user.id, category));
    await eventually(
      async () =>
        (await t.herald.db.notification.count({ where: { userId: user.id, status: 'sent' } })) === 5,
      { what: 'five sent notifications' },
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`userId=${user.externalId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse(), 'every notification once, newest first');

    const billing = await list(`userId=${user.id}&category=billing&status=sent`);
    assert.equal(billing.items.length, 3);
    assert.ok(billing.items.every((i) => i.category === 'billing' && i.status === 'sent'));
    const future = await list(
      `userId=${user.id}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    assert.deepEqual(future.items, []);
    assert.equal(future.nextCursor, null);
  });

  it('refuses bad filters with 422 and an unknown user with 404', async () => {
    for (const query of [
      'status=lost',
      'limit=0',
      'limit=101',
      'since=yesterday',
      'cursor=bm9wZQ',
      'colour=red',
    ]) {
      const res = await t.herald.api(`/v1/notifications?${query}`);
      assert.equal(res.status, 422, `${query}: ${await res.clone().text()}`);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    assert.equal((await t.herald.api('/v1/notifications?userId=nobody-at-all')).status, 404);
  });

  it('sends to many recipients, reports bad ones per item, and repeats nothing for the same key', async () => {
    const users = await Promise.all(Array.from({ length: 30 }, () => createUser()));
    const recipients = [
      ...users.map((u, i) => (i % 2 ? u.id : u.externalId)),
      'no-such-user',
      users[0]!.externalId,
    ];
    const send = () =>
      t.herald.api('/v1/notifications/bulk', {
        headers: { 'idempotency-key': `bulk-${uniqueIdOnce}` },
        json: { recipients, category: 'news', title: 'Weekly', body: 'Hello all', channels: ['email'] },
      });
    const uniqueIdOnce = uniqueId('key');
    const res = await send();
    assert.equal(res.status, 202, await res.clone().text());
    const body = (await res.json()) as {
      accepted: number;
      failed: number;
      results: { recipient: string; id?: string; error?: { type: string } }[];
    };
    assert.equal(body.accepted, 30);
    assert.equal(body.failed, 2);
    assert.equal(body.results.length, recipients.length);
    assert.deepEqual(
      body.results.map((r) => r.recipient),
      recipients,
      'results in request order',
    );
    assert.equal(body.results[30]!.error?.type, 'https://herald.dev/problems/unknown-user');
    assert.equal(body.results[31]!.error?.type, 'https://herald.dev/problems/duplicate-recipient');

    for (const user of users) await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    const again = (await (await send()).json()) as typeof body;
    assert.deepEqual(
      again.results.map((r) => r.id),
      body.results.map((r) => r.id),
      'the same ids: nothing new was started',
    );
    await new Promise((r) => setTimeout(r, 500));
    for (const user of users)
      assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 1);
  });

  it('refuses an empty or oversized recipient list as a whole', async () => {
    const empty = await t.herald.api('/v1/notifications/bulk', {
      json: { recipients: [], category: 'news', title: 'T', body: 'B' },
    });
    assert.equal(empty.status, 422);
    const tooMany = await t.herald.api('/v1/notifications/bulk', {
      json: {
        recipients: Array.from({ length: 10_001 }, (_, i) => `u${i}`),
        category: 'news',
        title: 'T',
        body: 'B',
      },
    });
    assert.equal(tooMany.status, 422);
    const before = await t.herald.db.notification.count();
    const noContent = await t.herald.api('/v1/notifications/bulk', {
      json: { recipients: ['x'], category: 'news' },
    });
    assert.equal(noContent.status, 422);
    assert.equal(await t.herald.db.notification.count(), before);
  });

  it('reports an unexpected failure of one recipient in its item (no 500), and the others go on', async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => createUser()));
    const broken = users[1]!;
    // A failure no domain rule knows: the database refuses this one recipient's row.
    await t.herald.db.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION herald_test_refuse_insert() RETURNS trigger AS $$
      BEGIN
        IF NEW.user_id = '${broken.id}'::uuid THEN RAISE EXCEPTION 'injected failure'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await t.herald.db.$executeRawUnsafe(
      'CREATE TRIGGER herald_test_refuse_insert BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION herald_test_refuse_insert()',
    );
    try {
      const res = await t.herald.api('/v1/notifications/bulk', {
        json: {
          recipients: users.map((u) => u.id),
          category: 'news',
          title: 'T',
          body: 'B',
          channels: ['email'],
        },
      });
      assert.equal(res.status, 202, await res.clone().text());
      const body = (await res.json()) as {
        accepted: number;
        failed: number;
        results: { recipient: string; id?: string; error?: { type: string; detail?: string } }[];
      };
      assert.equal(body.accepted, 2);
      assert.equal(body.failed, 1);
      assert.deepEqual(
        body.results.map((r) => r.recipient),
        users.map((u) => u.id),
      );
      assert.equal(body.results[1]!.error?.type, 'https://herald.dev/problems/internal-error');
      assert.doesNotMatch(JSON.stringify(body), /injected failure/, 'the cause stays in the log');
      assert.ok(body.results[0]!.id && body.results[2]!.id);
      assert.equal(await t.herald.db.notification.count({ where: { userId: broken.id } }), 0);
      for (const user of [users[0]!, users[2]!])
        await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
      assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(broken.email)).length, 0);
    } finally {
      await t.herald.db.$executeRawUnsafe(
        'DROP TRIGGER IF EXISTS herald_test_refuse_insert ON notifications',
      );
      await t.herald.db.$executeRawUnsafe('DROP FUNCTION IF EXISTS herald_test_refuse_insert()');
    }
  });
});

describe('bulk and the rate limit', () => {
  // A bucket of 10 that refills slowly: what the test spends is what is left.
  const t = useEmailStack({ API_RATE_LIMIT: '0.01', API_RATE_BURST: '10' }, { rateLimit: true });

  it('charges a token per recipient, and refuses a bulk larger than what is left with 429 before accepting any', async () => {
    // Users written past the API: creating them spends no tokens.
    const users = await Promise.all(
      Array.from({ length: 17 }, async () => {
        const email = `${uniqueId('rl')}@example.test`;
        const user = await t.herald.db.user.create({
          data: { externalId: uniqueId('rl'), contacts: { create: [{ channel: 'email', address: email }] } },
        });
        return { id: user.id, email };
      }),
    );
    const bulk = (recipients: { id: string }[]) =>
      t.herald.api('/v1/notifications/bulk', {
        json: {
          recipients: recipients.map((u) => u.id),
          category: 'news',
          title: 'T',
          body: 'B',
          channels: ['email'],
        },
      });
    const remaining = (res: Response) => Number(/;r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);

    const first = await bulk(users.slice(0, 4));
    assert.equal(first.status, 202, await first.clone().text());
    assert.equal(remaining(first), 6, 'four recipients cost four tokens');

    const notifications = await t.herald.db.notification.count();
    const tooMany = await bulk(users.slice(4, 12));
    assert.equal(tooMany.status, 429, await tooMany.clone().text());
    assert.match(tooMany.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.ok(Number(tooMany.headers.get('retry-after')) >= 1, 'Retry-After says when');
    assert.equal(await t.herald.db.notification.count(), notifications, 'nothing accepted');
    assert.equal(
      await t.herald.db.notification.count({
        where: { userId: { in: users.slice(4, 12).map((u) => u.id) } },
      }),
      0,
    );

    // The refused request's arrival cost one token: five are left, enough for five recipients.
    const fits = await bulk(users.slice(12, 17));
    assert.equal(fits.status, 202, await fits.clone().text());
    assert.equal(remaining(fits), 0);
    const empty = await t.herald.api('/v1/notifications?limit=1');
    assert.equal(empty.status, 429);

    for (const user of [...users.slice(0, 4), ...users.slice(12, 17)])
      await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    assert.equal(
      t.smtp.messages.filter((m) => users.slice(4, 12).some((u) => m.envelopeTo.includes(u.email))).length,
      0,
    );
  });
});
