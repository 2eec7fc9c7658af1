// Revoking one user's preference and unsubscribe links (POST /v1/users/:id/links/revoke) on real parts:
// afterwards the user's old links, from emails and from the API, are refused like invalid ones on the
// page, its JSON endpoints and one-click unsubscribe, and change nothing; freshly issued links and
// emails work; other users' links are untouched; links signed before link versions count as version 0.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createApiKey } from '../src/domain/api-keys.js';
import {
  PREFERENCES_SECRET,
  oneClick,
  onTestApi,
  preferenceCenterEnv,
  preferenceClient,
  unsubscribeUrl,
  unversionedToken,
} from './support/preference-center.js';
import { uniqueId, useEmailStack } from './support/stack.js';

describe("revoking one user's links", () => {
  const t = useEmailStack(preferenceCenterEnv());
  const c = preferenceClient(() => t.herald);
  let manageKey: string;
  let sendKey: string;
  before(async () => {
    manageKey = (await createApiKey(t.herald.db, uniqueId('links-manage'), ['manage'])).key;
    sendKey = (await createApiKey(t.herald.db, uniqueId('links-send'), ['send'])).key;
  });

  const revoke = (userId: string, key = manageKey) =>
    t.herald.api(`/v1/users/${userId}/links/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
  /** An email's one-click unsubscribe URL and its footer's page link. */
  async function emailedLinks(user: { id: string; email: string }, title: string) {
    await c.notify(user.id, 'billing', { title });
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email) && m.parsed.subject === title);
    const page = /(https:\/\/\S+\/preferences\/\S+)/.exec(mail.parsed.text ?? '')?.[1];
    assert.ok(page, 'the footer links the preference page');
    return { unsubscribe: unsubscribeUrl(mail), page };
  }
  const tokenOf = (url: string) => new URL(url).pathname.split('/').pop()!;
  const pageApi = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${t.herald.apiUrl}/preferences/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  const savePreferences = (token: string) =>
    pageApi(token, '/preferences', {
      method: 'PUT',
      body: JSON.stringify({
        rules: [{ category: '*', channel: 'email', enabled: false }],
        quietHours: null,
      }),
    });
  /** What a refused link must leave as it was. */
  const snapshot = async (userId: string) => ({
    rules: await t.herald.db.preference.findMany({ where: { userId }, orderBy: [{ category: 'asc' }] }),
    events: await t.herald.db.unsubscribeEvent.count({ where: { userId } }),
    user: await t.herald.db.user.findUniqueOrThrow({ where: { id: userId } }),
  });

  /** The page, its state and one-click unsubscribe all answer as for a genuine link. */
  async function assertWorks(links: { page: string; unsubscribe: string }) {
    assert.equal((await fetch(onTestApi(t.herald, links.page))).status, 200);
    assert.equal((await pageApi(tokenOf(links.page), '/state')).status, 200);
    assert.equal((await fetch(onTestApi(t.herald, links.unsubscribe))).status, 200);
  }

  it('refuses the old links like invalid ones and changes nothing; new links work; other users keep theirs', async () => {
    const [ada, bob] = [await c.createUser(), await c.createUser()];
    const adaMail = await emailedLinks(ada, 'Ada, before');
    const adaPage = (await c.pageLink(ada.id)).url;
    const bobMail = await emailedLinks(bob, 'Bob, before');
    await assertWorks(adaMail);
    assert.equal((await fetch(onTestApi(t.herald, adaPage))).status, 200);

    const revoked = await revoke(ada.id);
    assert.equal(revoked.status, 200, await revoked.clone().text());
    assert.deepEqual(await revoked.json(), { userId: ada.id, linkVersion: 1 });

    const before = await snapshot(ada.id);
    for (const page of [adaMail.page, adaPage]) {
      const shown = await fetch(onTestApi(t.herald, page));
      assert.equal(shown.status, 403);
      assert.match(await shown.text(), /This link is not valid/);
      for (const refused of [await pageApi(tokenOf(page), '/state'), await savePreferences(tokenOf(page))]) {
        assert.equal(refused.status, 403);
        assert.equal(
          ((await refused.json()) as { type: string }).type,
          'https://herald.dev/problems/link-invalid',
        );
      }
    }
    assert.equal((await fetch(onTestApi(t.herald, adaMail.unsubscribe))).status, 403);
    const clicked = await oneClick(onTestApi(t.herald, adaMail.unsubscribe));
    assert.equal(clicked.status, 403);
    assert.match(await clicked.text(), /This link is not valid/);
    assert.deepEqual(await snapshot(ada.id), before, 'a revoked link changed something');

    // Links issued after the revocation carry the new version and work.
    const fresh = {
      page: (await c.pageLink(ada.id)).url,
      unsubscribe: (await emailedLinks(ada, 'Ada, after')).unsubscribe,
    };
    await assertWorks(fresh);
    assert.equal((await savePreferences(tokenOf(fresh.page))).status, 200);
    assert.equal((await oneClick(onTestApi(t.herald, fresh.unsubscribe))).status, 200);
    assert.equal(await t.herald.db.unsubscribeEvent.count({ where: { userId: ada.id } }), 1);

    // Bob's links are his own: untouched.
    await assertWorks(bobMail);
    assert.equal((await oneClick(onTestApi(t.herald, bobMail.unsubscribe))).status, 200);
  });

  it('treats links signed before link versions as version 0: they work until the first revocation', async () => {
    const user = await c.createUser();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const old = {
      page: `https://herald.example.test/preferences/${unversionedToken(PREFERENCES_SECRET, { k: 'page', u: user.id, exp })}`,
      unsubscribe: `https://herald.example.test/unsubscribe/${unversionedToken(PREFERENCES_SECRET, { k: 'unsubscribe', u: user.id, c: 'news' })}`,
    };
    await assertWorks(old);
    assert.equal((await revoke(user.id)).status, 200);
    assert.equal((await fetch(onTestApi(t.herald, old.page))).status, 403);
    assert.equal((await oneClick(onTestApi(t.herald, old.unsubscribe))).status, 403);
    assert.equal(await t.herald.db.preference.count({ where: { userId: user.id } }), 0);
  });

  it('counts up on each revocation, takes the externalId, and needs the manage scope', async () => {
    const user = await c.createUser();
    const { externalId } = await t.herald.db.user.findUniqueOrThrow({ where: { id: user.id } });
    assert.deepEqual(await (await revoke(user.id)).json(), { userId: user.id, linkVersion: 1 });
    assert.deepEqual(await (await revoke(externalId)).json(), { userId: user.id, linkVersion: 2 });
    assert.equal((await revoke('nobody-here')).status, 404);

    const link = (await c.pageLink(user.id)).url;
    const refused = await revoke(user.id, sendKey);
    assert.equal(refused.status, 403);
    assert.equal((await t.herald.db.user.findUniqueOrThrow({ where: { id: user.id } })).linkVersion, 2);
    assert.equal((await fetch(onTestApi(t.herald, link))).status, 200, 'a refused revocation voided a link');
  });
});
