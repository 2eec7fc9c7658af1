// Who may read an inbox: a token is one user's, from a manage key. With it, another user's messages cannot
// be read, counted, marked or streamed; an expired, altered, forged or revoked token gets 401; and every
// refused request leaves every table as it was. CORS answers only INBOX_CORS_ORIGINS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../src/domain/api-keys.js';
import { createInboxTokens } from '../src/domain/inbox-tokens.js';
import { openInboxStream } from '../tools/clients/inbox-stream.js';
import { snapshotTables } from './support/db-snapshot.js';
import { INBOX_SECRET, PAGE_ORIGIN, inboxClient, inboxEnv } from './support/inbox.js';
import { preferenceClient } from './support/preference-center.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('inbox tokens', () => {
  let herald: RunningStack;
  const c = inboxClient(() => herald);
  const n = preferenceClient(() => herald);

  before(async () => {
    herald = await startHerald(testEnv(inboxEnv()));
  });
  after(() => herald?.stop());

  it('are issued to a manage key for an existing user, by id or externalId', async () => {
    const user = await c.createUser();
    const byExternal = await c.token(user.externalId);
    assert.equal(byExternal.userId, user.id);
    const ttl = Date.parse(byExternal.expiresAt) - Date.now();
    assert.ok(ttl > 23.9 * 3_600_000 && ttl <= 24 * 3_600_000, `a 24 h token, not ${ttl} ms`);
    assert.equal((await c.counts(byExternal.token)).unread, 0);

    const send = await createApiKey(herald.db, uniqueId('inbox-send'), ['send']);
    const manage = await createApiKey(herald.db, uniqueId('inbox-manage'), ['manage']);
    const ask = (key: string) =>
      fetch(`${herald.apiUrl}/v1/users/${user.id}/inbox-token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
    assert.equal((await ask(send.key)).status, 403);
    assert.equal((await ask(manage.key)).status, 201);
    const missing = await herald.api('/v1/users/nobody-at-all/inbox-token', { method: 'POST' });
    assert.equal(missing.status, 404);
  });

  it("never reach another user's messages, and refused requests change nothing", async () => {
    const ada = await c.reader();
    const bob = await c.reader();
    const adaMessage = await n.settled(await c.notify(ada.user.id, { title: 'For Ada only' }));
    await n.settled(await c.notify(bob.user.id, { title: 'For Bob' }));
    const adaItem = await c.stored(ada.token, 'For Ada only');
    assert.equal(adaMessage.status, 'sent');

    const tokens = createInboxTokens({ secret: INBOX_SECRET, ttlMs: 86_400_000 });
    const expired = (await tokens.issue(herald.db, ada.user.id, new Date(Date.now() - 86_401_000))).token;
    const [payload, signature] = ada.token.split('.') as [string, string];
    // Bob's token with Ada's id in it: the signature no longer matches.
    const claims = JSON.parse(Buffer.from(bob.token.split('.')[0]!, 'base64url').toString()) as object;
    const swapped = Buffer.from(JSON.stringify({ ...claims, u: ada.user.id })).toString('base64url');
    const forged = createInboxTokens({ secret: 'another-secret-0123456789abcdefghijkl', ttlMs: 86_400_000 });
    const refusedTokens: [string, string | undefined][] = [
      ['none', undefined],
      ['expired', expired],
      ['altered signature', `${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`],
      ['altered claims', `${swapped}.${bob.token.split('.')[1]}`],
      ['another secret', (await forged.issue(herald.db, ada.user.id)).token],
      ['an API key', 'test-key-0123456789abcdef'],
    ];

    const before = await snapshotTables(herald.db);
    for (const [what, token] of refusedTokens) {
      for (const [method, path] of [
        ['GET', '/messages'],
        ['GET', '/counts'],
        ['POST', `/messages/${adaItem.id}/read`],
        ['POST', `/messages/${adaItem.id}/archive`],
        ['POST', '/read-all'],
        ['GET', '/stream'],
      ] as const) {
        const res = await c.inbox(token, path, { method });
        assert.equal(res.status, 401, `${what}: ${method} ${path}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        const problem = (await res.json()) as { type: string };
        if (what === 'expired') assert.match(problem.type, /token-expired$/);
      }
      if (token) {
        const stream = await openInboxStream(herald.apiUrl, { token, tokenIn: 'query' });
        assert.equal(stream.status, 401, `${what}: the stream with ?token=`);
      }
    }
    // Bob's token on Ada's message: not found, whatever the mark.
    for (const mark of ['read', 'unread', 'seen', 'archive'])
      assert.equal(
        (await c.inbox(bob.token, `/messages/${adaItem.id}/${mark}`, { method: 'POST' })).status,
        404,
        mark,
      );
    assert.deepEqual(await snapshotTables(herald.db), before);

    // What Bob's token does reach is Bob's alone.
    assert.deepEqual(
      (await c.feed(bob.token)).items.map((i) => i.title),
      ['For Bob'],
    );
    assert.deepEqual(await c.counts(bob.token), { unread: 1, unseen: 1 });
    const bobStream = await openInboxStream(herald.apiUrl, { token: bob.token });
    await bobStream.next((e) => e.event === 'counts');
    await c.notify(ada.user.id, { title: 'Ada again' });
    await c.stored(ada.token, 'Ada again');
    await c.notify(bob.user.id, { title: 'Bob again' });
    const event = await bobStream.next((e) => e.event === 'message');
    assert.equal((event.data as { title: string }).title, 'Bob again');
    assert.ok(!bobStream.events.some((e) => JSON.stringify(e.data).includes('Ada')));
    bobStream.close();
  });

  it('are revoked per user: old tokens get 401 and their streams end; a new token works', async () => {
    const { user, token } = await c.reader();
    const other = await c.reader();
    const stream = await openInboxStream(herald.apiUrl, { token });
    const otherStream = await openInboxStream(herald.apiUrl, { token: other.token });
    await stream.next((e) => e.event === 'counts');
    const res = await herald.api(`/v1/users/${user.id}/inbox-token`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    await stream.ended;
    const refused = await c.inbox(token, '/counts');
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { type: string }).type, /token-revoked$/);
    assert.equal((await c.counts((await c.token(user.id)).token)).unread, 0);
    // Another user's stream stays open.
    assert.equal(
      await Promise.race([
        otherStream.ended.then(() => 'ended'),
        new Promise((r) => setTimeout(() => r('open'), 300)),
      ]),
      'open',
    );
    otherStream.close();
  });

  it('answers CORS for INBOX_CORS_ORIGINS only, refusals included', async () => {
    const preflight = (origin: string) =>
      fetch(`${herald.apiUrl}/inbox/v1/messages`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(PAGE_ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), PAGE_ORIGIN);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const other = await preflight('https://evil.example.test');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const refusal = await fetch(`${herald.apiUrl}/inbox/v1/counts`, { headers: { origin: PAGE_ORIGIN } });
    assert.equal(refusal.status, 401);
    assert.equal(refusal.headers.get('access-control-allow-origin'), PAGE_ORIGIN);
    const script = await fetch(`${herald.apiUrl}/inbox/herald-inbox.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(script.headers.get('access-control-allow-origin'), '*');
  });
});
