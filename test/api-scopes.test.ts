// API key scopes over real HTTP: a send key sends and sees only its own notifications, a manage key handles
// users and templates but sends nothing, admin keys (API_KEYS) do everything, and a refusal changes nothing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { projectRoot } from '../tools/local-stack/paths.js';
import { createApiKey, type ApiKeyScope } from '../src/domain/api-keys.js';
import { snapshotTables } from './support/db-snapshot.js';
import { eventually, uniqueId, untilStatus, useEmailStack } from './support/stack.js';

const SEND_AT = '2099-01-01T00:00:00Z';

describe('API key scopes', () => {
  const t = useEmailStack();
  const keys = {} as Record<'send' | 'otherSend' | 'manage' | 'sendManage', string>;
  const ids = {} as Record<keyof typeof keys, string>;
  before(async () => {
    const make: [keyof typeof keys, ApiKeyScope[]][] = [
      ['send', ['send']],
      ['otherSend', ['send']],
      ['manage', ['manage']],
      ['sendManage', ['send', 'manage']],
    ];
    for (const [name, scopes] of make) {
      const { key, view } = await createApiKey(t.herald.db, uniqueId(`scopes-${name}`), scopes);
      keys[name] = key;
      ids[name] = view.id;
    }
  });

  const as = (key: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
    t.herald.api(path, { ...init, headers: { ...(init.headers as object), authorization: `Bearer ${key}` } });

  async function expectProblem(res: Response, status: number, type: string) {
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((JSON.parse(text) as { type: string }).type, `https://herald.dev/problems/${type}`);
  }

  async function createUser(key?: string) {
    const body = { externalId: uniqueId('scoped'), email: `${uniqueId('s')}@example.test` };
    const res = key
      ? await as(key, '/v1/users', { json: body })
      : await t.herald.api('/v1/users', { json: body });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; externalId: string };
  }
  async function scheduleAs(key: string, userId: string) {
    const res = await as(key, '/v1/notifications', {
      json: { userId, category: 'billing', title: 'Later', body: 'Scheduled', sendAt: SEND_AT },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    await untilStatus(t.herald, id, 'scheduled');
    return id;
  }
  const statusOf = async (id: string) =>
    (await t.herald.db.notification.findUniqueOrThrow({ where: { id } })).status;

  it('a send key gets 403 on template and user writes, and nothing changes', async () => {
    const user = await createUser();
    const before = await t.herald.db.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { contacts: true },
    });
    const templateKey = uniqueId('scoped-template');
    // Authentication notes lastUsedAt (at most once a minute): let that happen before taking the picture.
    await expectProblem(await as(keys.send, `/v1/notifications/${crypto.randomUUID()}`), 404, 'not-found');
    await eventually(
      async () => (await t.herald.db.apiKey.findUniqueOrThrow({ where: { id: ids.send } })).lastUsedAt,
      { what: 'lastUsedAt' },
    );
    const tables = await snapshotTables(t.herald.db);

    await expectProblem(
      await as(keys.send, `/v1/templates/${templateKey}/en`, {
        method: 'PUT',
        json: { title: 'Hi', body: 'Hello' },
      }),
      403,
      'forbidden',
    );
    assert.equal(await t.herald.db.template.count({ where: { key: templateKey } }), 0);

    const externalId = uniqueId('refused');
    await expectProblem(await as(keys.send, '/v1/users', { json: { externalId } }), 403, 'forbidden');
    assert.equal(await t.herald.db.user.count({ where: { externalId } }), 0);

    await expectProblem(
      await as(keys.send, `/v1/users/${user.id}`, { method: 'PATCH', json: { timezone: 'Europe/Moscow' } }),
      403,
      'forbidden',
    );
    await expectProblem(await as(keys.send, `/v1/users/${user.id}`, { method: 'DELETE' }), 403, 'forbidden');
    await expectProblem(
      await as(keys.send, `/v1/users/${user.id}/preferences`, { method: 'PUT', json: { rules: [] } }),
      403,
      'forbidden',
    );
    await expectProblem(
      await as(keys.send, `/v1/users/${user.id}/preferences-link`, { method: 'POST' }),
      403,
      'forbidden',
    );
    // Reading people's contacts is manage's too.
    await expectProblem(await as(keys.send, `/v1/users/${user.id}`), 403, 'forbidden');
    const afterRefusals = await t.herald.db.user.findUniqueOrThrow({
      where: { id: user.id },
      include: { contacts: true },
    });
    assert.deepEqual(afterRefusals, before, 'the refused requests changed nothing');
    assert.deepEqual(await snapshotTables(t.herald.db), tables, 'no table changed');
  });

  it("a send key gets 404 on another key's notification (read, cancel, retry) and lists only its own", async () => {
    const user = await createUser();
    const mine = await scheduleAs(keys.send, user.id);
    const theirs = await scheduleAs(keys.otherSend, user.id);
    const stored = await t.herald.db.notification.findUniqueOrThrow({ where: { id: mine } });
    assert.equal(stored.source, ids.send, 'the notification records the key that sent it');

    assert.equal((await as(keys.send, `/v1/notifications/${mine}`)).status, 200);
    await expectProblem(await as(keys.send, `/v1/notifications/${theirs}`), 404, 'not-found');
    await expectProblem(
      await as(keys.send, `/v1/notifications/${theirs}/cancel`, { method: 'POST', json: {} }),
      404,
      'not-found',
    );
    await expectProblem(
      await as(keys.send, `/v1/notifications/${theirs}/retry`, { method: 'POST' }),
      404,
      'not-found',
    );
    assert.equal(await statusOf(theirs), 'scheduled', 'the refused cancel changed nothing');

    const list = async (key: string) => {
      const res = await as(key, `/v1/notifications?userId=${user.id}`);
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { items: { id: string }[] }).items.map((n) => n.id).sort();
    };
    assert.deepEqual(await list(keys.send), [mine]);
    assert.deepEqual(await list(keys.otherSend), [theirs]);
    // manage (and admin) read every notification.
    assert.deepEqual(await list(keys.manage), [mine, theirs].sort());
    assert.equal((await as(keys.manage, `/v1/notifications/${theirs}`)).status, 200);

    // A key that can read another's notification but not act on it hears 403, not 404.
    await expectProblem(
      await as(keys.sendManage, `/v1/notifications/${theirs}/cancel`, { method: 'POST', json: {} }),
      403,
      'forbidden',
    );
    await expectProblem(
      await as(keys.manage, `/v1/notifications/${mine}/cancel`, { method: 'POST', json: {} }),
      403,
      'forbidden',
    );
    assert.equal(await statusOf(theirs), 'scheduled');
    assert.equal(await statusOf(mine), 'scheduled');

    // The owner cancels its own; an admin key (API_KEYS) cancels any key's.
    const own = await as(keys.send, `/v1/notifications/${mine}/cancel`, { method: 'POST', json: {} });
    assert.equal(own.status, 200, await own.clone().text());
    const admin = await t.herald.api(`/v1/notifications/${theirs}/cancel`, { method: 'POST', json: {} });
    assert.equal(admin.status, 200, await admin.clone().text());
    await eventually(
      async () => (await statusOf(mine)) === 'cancelled' && (await statusOf(theirs)) === 'cancelled',
      {
        what: 'both cancelled',
      },
    );
  });

  it('a manage key handles users and templates but sends nothing; an admin key does all', async () => {
    const user = await createUser(keys.manage);
    const patched = await as(keys.manage, `/v1/users/${user.id}`, {
      method: 'PATCH',
      json: { timezone: 'Europe/Berlin' },
    });
    assert.equal(patched.status, 200, await patched.clone().text());
    const templateKey = uniqueId('managed-template');
    const put = await as(keys.manage, `/v1/templates/${templateKey}/en`, {
      method: 'PUT',
      json: { title: 'Hi', body: 'Hello' },
    });
    assert.equal(put.status, 201, await put.clone().text());

    const before = await t.herald.db.notification.count({ where: { userId: user.id } });
    await expectProblem(
      await as(keys.manage, '/v1/notifications', {
        json: { userId: user.id, category: 'billing', title: 'T', body: 'B' },
      }),
      403,
      'forbidden',
    );
    await expectProblem(
      await as(keys.manage, '/v1/notifications/bulk', {
        json: { recipients: [user.id], category: 'billing', title: 'T', body: 'B' },
      }),
      403,
      'forbidden',
    );
    await expectProblem(await as(keys.manage, '/v1/webhooks'), 403, 'forbidden');
    assert.equal(await t.herald.db.notification.count({ where: { userId: user.id } }), before);

    // API_KEYS are admin: templates, users and notifications alike.
    assert.equal((await t.herald.api(`/v1/templates/${templateKey}`)).status, 200);
    assert.equal((await t.herald.api(`/v1/users/${user.id}`)).status, 200);
    const sent = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'billing', title: 'T', body: 'B', sendAt: SEND_AT },
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const { id } = (await sent.json()) as { id: string };
    await untilStatus(t.herald, id, 'scheduled');
    const cancel = await t.herald.api(`/v1/notifications/${id}/cancel`, { method: 'POST', json: {} });
    assert.equal(cancel.status, 200, await cancel.clone().text());
    const deleted = await t.herald.api(`/v1/templates/${templateKey}/en`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
  });
});

describe('the scopes migration', () => {
  it('gives keys stored before scopes admin, new keys send, and refuses unknown or no scopes', async () => {
    const server = new URL(process.env.HERALD_TEST_DATABASE_URL!);
    const name = `herald_scopes_migration_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: server.href });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const scratch = new URL(server.href);
    scratch.pathname = `/${name}`;
    const db = new pg.Client({ connectionString: scratch.href });
    try {
      await db.connect();
      const dir = path.join(projectRoot, 'prisma', 'migrations');
      const migrations = readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
      const insert = (label: string, scopes?: string) =>
        db.query(
          `INSERT INTO api_keys (id, name, prefix, hash${scopes ? ', scopes' : ''})
           VALUES (gen_random_uuid(), $1, 'hk_test', $1${scopes ? ', $2' : ''})`,
          scopes ? [label, scopes] : [label],
        );
      for (const migration of migrations) {
        if (migration.endsWith('_api_key_scopes')) await insert('before-scopes');
        await db.query(readFileSync(path.join(dir, migration, 'migration.sql'), 'utf8'));
      }
      await insert('after-scopes');
      const { rows } = await db.query<{ name: string; scopes: string[] }>(
        'SELECT name, scopes FROM api_keys ORDER BY name',
      );
      assert.deepEqual(rows, [
        { name: 'after-scopes', scopes: ['send'] },
        { name: 'before-scopes', scopes: ['admin'] },
      ]);
      for (const scopes of ['{root}', '{}', '{send,everything}'])
        await assert.rejects(insert(`bad-${scopes}`, scopes), /api_keys_scopes_check/);
    } finally {
      await db.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.end();
    }
  });
});
