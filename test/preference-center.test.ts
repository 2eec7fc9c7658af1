// The preference center on real parts: emails leave with List-Unsubscribe (RFC 8058) and an opt-out
// footer; a mail provider's one-click POST turns the category off on email and is recorded, and the
// next notification of that category skips email; the page's JSON endpoints take only a genuine,
// unexpired link and change nothing when they refuse; "send me a test" reaches the SMTP sink.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPreferenceLinks } from '../src/domain/preference-links.js';
import {
  PREFERENCES_SECRET,
  PUBLIC_URL,
  oneClick,
  onTestApi,
  preferenceCenterEnv,
  preferenceClient,
  rawHeader,
  unsubscribeUrl,
} from './support/preference-center.js';
import { useEmailStack } from './support/stack.js';

const WEEK_MS = 7 * 24 * 3600_000;

describe('one-click unsubscribe and the opt-out footer', () => {
  const t = useEmailStack(preferenceCenterEnv());
  const c = preferenceClient(() => t.herald);
  const mailTo = (email: string, subject: string) =>
    t.smtp.waitFor((m) => m.envelopeTo.includes(email) && m.parsed.subject === subject);

  /** The user's rules and unsubscribe records: what a refused request must leave as they are. */
  const snapshot = async (userId: string) => ({
    rules: await t.herald.db.preference.findMany({ where: { userId }, orderBy: [{ category: 'asc' }] }),
    events: await t.herald.db.unsubscribeEvent.count({ where: { userId } }),
  });

  it('puts List-Unsubscribe and List-Unsubscribe-Post on every email, and links in its footer', async () => {
    const user = await c.createUser();
    const id = await c.notify(user.id, 'billing', { title: 'Invoice ready' });
    const mail = await mailTo(user.email, 'Invoice ready');

    const url = unsubscribeUrl(mail);
    assert.match(url, new RegExp(`^${PUBLIC_URL}/unsubscribe/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    assert.equal(rawHeader(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    // The footer, in both parts: the same unsubscribe URL, and the preference page.
    const text = mail.parsed.text ?? '';
    assert.match(text, /Something happened\.\n\n-- \n/);
    assert.ok(text.includes(`Unsubscribe from “billing” emails: ${url}`), text);
    assert.match(
      text,
      new RegExp(`Manage your notifications \\(link valid until [0-9-]+\\): ${PUBLIC_URL}/preferences/`),
    );
    assert.ok(String(mail.parsed.html).includes(`<a href="${url}">Unsubscribe from “billing” emails</a>`));
    assert.equal((await c.settled(id)).status, 'sent');
  });

  it('offers no unsubscribe for a mandatory category, and says why', async () => {
    const user = await c.createUser();
    await c.notify(user.id, 'security', { title: 'New sign-in' });
    const mail = await mailTo(user.email, 'New sign-in');
    assert.equal(rawHeader(mail, 'List-Unsubscribe'), undefined);
    assert.equal(rawHeader(mail, 'List-Unsubscribe-Post'), undefined);
    assert.match(
      mail.parsed.text ?? '',
      /“security” notifications are always sent: they cannot be turned off\./,
    );
    assert.match(mail.parsed.text ?? '', /Manage your other notifications .*\/preferences\//);
  });

  it('unsubscribes on a plain one-click POST; the next email of that category is skipped, others arrive', async () => {
    const user = await c.createUser();
    const first = await c.notify(user.id, 'billing', { title: 'Invoice 1' });
    const url = unsubscribeUrl(await mailTo(user.email, 'Invoice 1'));

    // A link scanner's GET only shows the confirmation page.
    const page = await fetch(onTestApi(t.herald, url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Unsubscribe from “billing” emails\?/);
    assert.deepEqual(await snapshot(user.id), { rules: [], events: 0 });

    const res = await oneClick(onTestApi(t.herald, url));
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /You are unsubscribed/);
    const rules = await t.herald.db.preference.findMany({ where: { userId: user.id } });
    assert.deepEqual(
      rules.map((r) => [r.category, r.channel, r.enabled]),
      [['billing', 'email', false]],
    );
    const [event, ...more] = await t.herald.db.unsubscribeEvent.findMany({ where: { userId: user.id } });
    assert.equal(more.length, 0);
    assert.equal(event!.category, 'billing');
    assert.equal(event!.channel, 'email');
    assert.equal(event!.method, 'one_click');
    assert.equal(event!.notificationId, first);
    assert.equal(event!.userAgent, 'GoogleOneClick/1.0');

    // The next billing notification skips email, with the reason; news still arrives.
    const second = await c.notify(user.id, 'billing', { title: 'Invoice 2' });
    const news = await c.notify(user.id, 'news', { title: 'Newsletter' });
    await mailTo(user.email, 'Newsletter');
    const skipped = await c.settled(second);
    assert.equal(skipped.status, 'skipped');
    assert.deepEqual(
      skipped.deliveries.map((d) => [d.channel, d.status, d.lastError]),
      [['email', 'skipped', 'the user opted out of billing on email']],
    );
    assert.equal((await c.settled(news)).status, 'sent');
    assert.equal(
      t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email) && m.parsed.subject === 'Invoice 2')
        .length,
      0,
    );

    // A second POST (providers retry) changes nothing more but is recorded too.
    assert.equal((await oneClick(onTestApi(t.herald, url))).status, 200);
    assert.equal((await snapshot(user.id)).rules.length, 1);
  });

  it('refuses a forged or altered unsubscribe link and changes nothing', async () => {
    const user = await c.createUser();
    await c.notify(user.id, 'billing', { title: 'Invoice to tamper with' });
    const url = unsubscribeUrl(await mailTo(user.email, 'Invoice to tamper with'));
    const before = await snapshot(user.id);

    const [base, token] = [url.slice(0, url.lastIndexOf('/') + 1), url.slice(url.lastIndexOf('/') + 1)];
    const [claims, signature] = token.split('.') as [string, string];
    // Another category in the claims, the same signature.
    const otherClaims = Buffer.from(
      Buffer.from(claims, 'base64url').toString().replace('"billing"', '"news"'),
    ).toString('base64url');
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    const otherSecret = createPreferenceLinks({
      secret: 'somebody-elses-secret-0123456789abcdef',
      publicUrl: PUBLIC_URL,
      linkTtlMs: WEEK_MS,
    }).unsubscribeUrl({ id: user.id, linkVersion: 0 }, 'billing');
    const pageToken = new URL((await c.pageLink(user.id)).url).pathname.split('/').pop()!;
    for (const forged of [
      `${base}${otherClaims}.${signature}`,
      `${base}${claims}.${flipped}`,
      otherSecret,
      `${base}${pageToken}`,
      `${base}not-a-token`,
    ]) {
      const res = await oneClick(onTestApi(t.herald, forged));
      assert.equal(res.status, 403, forged);
      assert.match(await res.text(), /This link is not valid/);
    }
    assert.deepEqual(await snapshot(user.id), before);
  });
});

describe("the preference page's JSON endpoints and the link API", () => {
  const t = useEmailStack(preferenceCenterEnv({ PREFERENCE_CATEGORIES: 'billing,news' }));
  const c = preferenceClient(() => t.herald);
  const links = createPreferenceLinks({
    secret: PREFERENCES_SECRET,
    publicUrl: PUBLIC_URL,
    linkTtlMs: WEEK_MS,
  });
  const call = (token: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${t.herald.apiUrl}/preferences/api${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const tokenOf = (url: string) => new URL(url).pathname.split('/').pop()!;

  it('issues a signed, expiring page link through the API', async () => {
    const user = await c.createUser();
    const link = await c.pageLink(user.id);
    assert.equal(link.userId, user.id);
    assert.match(link.url, new RegExp(`^${PUBLIC_URL}/preferences/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    const ttl = new Date(link.expiresAt).getTime() - Date.now();
    assert.ok(ttl > WEEK_MS - 60_000 && ttl <= WEEK_MS, `expires in 7 days (${ttl} ms)`);
    const page = await fetch(onTestApi(t.herald, link.url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');

    const state = (await (await call(tokenOf(link.url), '/state')).json()) as {
      channels: { channel: string; available: boolean; detail: string }[];
      categories: { category: string; mandatory: boolean }[];
    };
    assert.deepEqual(
      state.channels.find((ch) => ch.channel === 'email'),
      {
        channel: 'email',
        available: true,
        detail: user.email.replace(/^(.)[^@]*/, '$1•••'),
      },
    );
    assert.deepEqual(state.categories, [
      { category: 'billing', mandatory: false },
      { category: 'news', mandatory: false },
      { category: 'security', mandatory: true },
    ]);
    const unknown = await t.herald.api('/v1/users/nobody-here/preferences-link', { method: 'POST' });
    assert.equal(unknown.status, 404);
  });

  it('refuses missing, altered and expired tokens with problem+json, and changes nothing', async () => {
    const user = await c.createUser();
    const good = tokenOf((await c.pageLink(user.id)).url);
    const expired = links.pageLink(
      { id: user.id, linkVersion: 0 },
      new Date(Date.now() - WEEK_MS - 1000),
    ).token;
    const altered = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
    const body = { rules: [{ category: '*', channel: 'email', enabled: false }], quietHours: null };
    for (const [token, status, type] of [
      ['', 401, 'unauthorized'],
      [altered, 403, 'link-invalid'],
      [expired, 410, 'link-expired'],
    ] as const) {
      const res = await call(token, '/preferences', { method: 'PUT', json: body });
      assert.equal(res.status, status, token);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as { type: string }).type, `https://herald.dev/problems/${type}`);
    }
    // Input is checked with the API's own schema: an invalid body is refused whole.
    const invalid = await call(good, '/preferences', {
      method: 'PUT',
      json: { ...body, quietHours: { start: '25:00', end: '07:00' }, timezone: 'Mars/Olympus' },
    });
    assert.equal(invalid.status, 422);
    const problem = (await invalid.json()) as { errors: { field: string }[] };
    assert.deepEqual(problem.errors.map((e) => e.field).sort(), ['quietHours.start', 'timezone']);
    assert.equal(await t.herald.db.preference.count({ where: { userId: user.id } }), 0);
    assert.equal(await t.herald.db.quietHours.count({ where: { userId: user.id } }), 0);
    assert.equal(
      (await t.herald.db.user.findUniqueOrThrow({ where: { id: user.id } })).timezone,
      user.timezone,
    );

    // The genuine link saves.
    const saved = await call(good, '/preferences', {
      method: 'PUT',
      json: { ...body, timezone: 'Asia/Tokyo' },
    });
    assert.equal(saved.status, 200, await saved.clone().text());
    assert.equal(await t.herald.db.preference.count({ where: { userId: user.id } }), 1);
    assert.equal(
      (await t.herald.db.user.findUniqueOrThrow({ where: { id: user.id } })).timezone,
      'Asia/Tokyo',
    );
  });

  it('"send me a test" sends a real notification by email, and is rate limited', async () => {
    const user = await c.createUser();
    const token = tokenOf((await c.pageLink(user.id)).url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(token, '/test', { method: 'POST' });
      assert.equal(res.status, 202, await res.clone().text());
      ids.push(((await res.json()) as { id: string }).id);
    }
    const refused = await call(token, '/test', { method: 'POST' });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);

    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email));
    assert.equal(mail.parsed.subject, 'Test notification');
    const view = await c.settled(ids[0]!);
    assert.equal(view.status, 'sent');
    const own = await call(token, `/notifications/${ids[0]}`);
    assert.equal(own.status, 200);
    assert.equal(((await own.json()) as { deliveries: { status: string }[] }).deliveries[0]!.status, 'sent');
    const stored = await t.herald.db.notification.findUniqueOrThrow({ where: { id: ids[0]! } });
    assert.equal(stored.category, 'test');
    assert.equal(stored.source, 'preference-center');
    assert.equal(await t.herald.db.notification.count({ where: { userId: user.id } }), 3);

    // Someone else's notification is not visible through this link.
    const other = await c.createUser();
    const theirs = await c.notify(other.id, 'news');
    assert.equal((await call(token, `/notifications/${theirs}`)).status, 404);
  });
});
