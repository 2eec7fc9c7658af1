// The preference page in a real browser: Debian's Chromium (driven by playwright-core) opens it from a
// signed link, switches a category off and sets quiet hours with the keyboard and the mouse, and the
// database follows; expired and altered links get a refusal page. Web Push: the page's subscribe path
// runs in Chromium (service worker, PushManager, the POST to Herald) and a test notification reaches a
// local HTTPS push service. Screenshots at phone and desktop width go to test-artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import webpush from 'web-push';
import { chromiumMissingReason, chromiumPath } from '../tools/ensure-tools.mjs';
import { createPreferenceLinks } from '../src/domain/preference-links.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import {
  PREFERENCES_SECRET,
  PUBLIC_URL,
  onTestApi,
  preferenceCenterEnv,
  preferenceClient,
} from './support/preference-center.js';
import {
  createBrowserSubscription,
  startPushEndpoint,
  type PushEndpoint,
} from '../tools/fakes/push-endpoint.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { eventually, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'preference-center');
const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };

async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  // From the top: the status line sticks to the top of the window, which would be mid-page otherwise.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${path.relative(projectRoot, file)}`);
  return file;
}

/** Waits until the page's status line (role=status, aria-live) says this. */
async function statusSays(page: Page, text: string | RegExp): Promise<void> {
  const status = page.getByRole('status');
  await eventually(
    async () => {
      const said = (await status.textContent()) ?? '';
      return typeof text === 'string' ? said === text : text.test(said);
    },
    { what: `the status to say ${text} (it says "${await status.textContent()}")`, timeoutMs: 15_000 },
  );
}

describe('the preference page in Chromium', () => {
  const vapid = webpush.generateVAPIDKeys();
  let smtp: SmtpSink;
  let pushService: PushEndpoint;
  let herald: RunningStack;
  let browser: Browser;
  const c = preferenceClient(() => herald);

  before(async () => {
    // Never skipped: without Chromium the test fails and says why.
    const missing = chromiumMissingReason();
    if (missing) throw new Error(missing);
    mkdirSync(ARTIFACTS, { recursive: true });
    [smtp, pushService] = await Promise.all([startSmtpSink(), startPushEndpoint()]);
    herald = await startHerald(
      testEnv({
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        ...preferenceCenterEnv({ PREFERENCE_CATEGORIES: 'billing,news' }),
      }),
      { ca: pushService.ca },
    );
    browser = await chromium.launch({ executablePath: chromiumPath });
  });
  after(async () => {
    await browser?.close();
    await herald?.stop();
    await Promise.all([smtp?.close(), pushService?.stop()]);
  });

  /** A fresh browser profile (no cookies, no service worker) with the page open from a new link. */
  async function openPage(userId: string, options: BrowserContextOptions = PHONE) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const link = await c.pageLink(userId);
    const res = await page.goto(onTestApi(herald, link.url));
    assert.equal(res?.status(), 200);
    await page.getByRole('heading', { name: 'What you receive' }).waitFor();
    return { context, page, link };
  }

  it('opens from a signed link; a category switched off and quiet hours set reach the database', async () => {
    const user = await c.createUser({ timezone: 'Europe/Berlin' });
    const { db } = herald;
    const { context, page, link } = await openPage(user.id);
    try {
      // Every control has an accessible name, and nothing is wider than the phone.
      // (Page code as strings: this project's TypeScript has no DOM types.)
      const unnamed = await page.evaluate(`[...document.querySelectorAll('input, select, button')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
        .filter((el) => !(el.tagName === 'BUTTON' && el.textContent.trim()))
        .map((el) => el.outerHTML)`);
      assert.deepEqual(unnamed, []);
      assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true);

      // The keyboard: the skip link comes first; Space on the focused checkbox switches it.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to your settings');
      const billingEmail = page.getByRole('checkbox', { name: '“billing” by Email' });
      assert.equal(await billingEmail.isChecked(), true);
      await billingEmail.focus();
      await page.keyboard.press('Space');
      await statusSays(page, 'Saved: “billing” by Email is off.');
      assert.equal(await billingEmail.isChecked(), false);
      assert.equal(await page.evaluate('document.activeElement.id'), 'cat-billing--email');
      // The category's switch shows that some of it is still on.
      assert.equal(await page.evaluate(`document.getElementById('cat-billing').indeterminate`), true);
      const rules = await db.preference.findMany({ where: { userId: user.id } });
      assert.deepEqual(
        rules.map((r) => [r.category, r.channel, r.enabled]),
        [['billing', 'email', false]],
      );

      // The mouse: the whole "news" category off.
      await page.getByRole('checkbox', { name: 'All “news” notifications' }).click();
      await statusSays(page, 'Saved: “news” notifications are off.');
      assert.equal(await page.getByRole('checkbox', { name: '“news” by Email' }).isChecked(), false);
      assert.deepEqual(
        (await db.preference.findMany({ where: { userId: user.id }, orderBy: { category: 'asc' } })).map(
          (r) => [r.category, r.channel, r.enabled],
        ),
        [
          ['billing', 'email', false],
          ['news', '*', false],
        ],
      );
      // A mandatory category is shown, and cannot be switched.
      assert.equal(
        await page.getByRole('checkbox', { name: 'All “security” notifications' }).isDisabled(),
        true,
      );

      // Quiet hours and the time zone.
      await page.getByLabel('Hold notifications during quiet hours').check();
      await page.getByLabel('From').fill('22:30');
      await page.getByLabel('Until').fill('06:45');
      await page.getByLabel('Your time zone').selectOption('Asia/Tokyo');
      await page.getByRole('button', { name: 'Save quiet hours and time zone' }).click();
      await statusSays(page, 'Saved: quiet hours 22:30–06:45, Asia/Tokyo.');
      const quiet = await db.quietHours.findUniqueOrThrow({ where: { userId: user.id } });
      assert.deepEqual([quiet.start, quiet.end, quiet.timezone], ['22:30', '06:45', null]);
      assert.equal((await db.user.findUniqueOrThrow({ where: { id: user.id } })).timezone, 'Asia/Tokyo');
      await screenshot(page, 'phone');

      // The same link on a desktop shows what was saved.
      const desktop = await browser.newContext(DESKTOP);
      try {
        const wide = await desktop.newPage();
        await wide.goto(onTestApi(herald, link.url));
        await wide.getByRole('heading', { name: 'What you receive' }).waitFor();
        assert.equal(await wide.getByRole('checkbox', { name: '“billing” by Email' }).isChecked(), false);
        assert.equal(await wide.getByLabel('From').inputValue(), '22:30');
        assert.equal(await wide.getByLabel('Your time zone').inputValue(), 'Asia/Tokyo');
        await screenshot(wide, 'desktop');
      } finally {
        await desktop.close();
      }
    } finally {
      await context.close();
    }
  });

  it('sets a category’s digest (hourly, daily at a local hour, off); other saves keep it', async () => {
    const user = await c.createUser({ timezone: 'Europe/Berlin' });
    const { db } = herald;
    const digests = async () =>
      (await db.digestPreference.findMany({ where: { userId: user.id }, orderBy: { category: 'asc' } })).map(
        (d) => [d.category, d.mode, d.hour],
      );
    const { context, page, link } = await openPage(user.id);
    try {
      const billing = page.getByLabel('How “billing” notifications come');
      assert.equal(await billing.inputValue(), 'off');
      assert.match(
        (await page.locator('#digest-hint').textContent()) ?? '',
        /your time zone \(Europe\/Berlin\)/,
      );

      // Daily at a local hour: 08:00 in the user’s time zone.
      await billing.focus();
      await billing.selectOption('daily:8');
      await statusSays(page, 'Saved: “billing” notifications come as a daily digest at 08:00.');
      assert.deepEqual(await digests(), [['billing', 'daily', 8]]);

      await page.getByLabel('How “news” notifications come').selectOption({ label: 'Hourly digest' });
      await statusSays(page, 'Saved: “news” notifications come as an hourly digest.');
      assert.deepEqual(await digests(), [
        ['billing', 'daily', 8],
        ['news', 'hourly', null],
      ]);

      // A channel switch and the quiet-hours form save the rules, and leave the digests alone.
      await page.getByRole('checkbox', { name: '“billing” by Email' }).click();
      await statusSays(page, 'Saved: “billing” by Email is off.');
      await page.getByLabel('Your time zone').selectOption('Asia/Tokyo');
      await page.getByRole('button', { name: 'Save quiet hours and time zone' }).click();
      await statusSays(page, 'Saved: no quiet hours; time zone Asia/Tokyo.');
      assert.deepEqual(await digests(), [
        ['billing', 'daily', 8],
        ['news', 'hourly', null],
      ]);
      assert.match((await page.locator('#digest-hint').textContent()) ?? '', /\(Asia\/Tokyo\)/);

      // Back to each as it comes: the choice is gone, not stored as off.
      await page.getByLabel('How “news” notifications come').selectOption('off');
      await statusSays(page, 'Saved: “news” notifications come as each as it comes.');
      assert.deepEqual(await digests(), [['billing', 'daily', 8]]);

      // Opened again, the page shows what was saved.
      const again = await context.newPage();
      await again.goto(onTestApi(herald, link.url));
      await again.getByRole('heading', { name: 'What you receive' }).waitFor();
      assert.equal(await again.getByLabel('How “billing” notifications come').inputValue(), 'daily:8');
      assert.equal(await again.getByLabel('How “news” notifications come').inputValue(), 'off');
      assert.equal(await again.getByRole('checkbox', { name: '“billing” by Email' }).isChecked(), false);
      await screenshot(again, 'digests');
    } finally {
      await context.close();
    }
  });

  it('refuses an expired or an altered link with a page that says so', async () => {
    const user = await c.createUser();
    const links = createPreferenceLinks({
      secret: PREFERENCES_SECRET,
      publicUrl: PUBLIC_URL,
      linkTtlMs: 3600_000,
    });
    const expired = links.pageLink({ id: user.id, linkVersion: 0 }, new Date(Date.now() - 2 * 3600_000)).url;
    const good = (await c.pageLink(user.id)).url;
    // One character of the signature changed.
    const altered = good.replace(
      /\.([A-Za-z0-9_-])([A-Za-z0-9_-]{42})$/,
      (_, first: string, rest: string) => {
        return `.${first === 'A' ? 'B' : 'A'}${rest}`;
      },
    );
    assert.notEqual(altered, good);
    const context = await browser.newContext(PHONE);
    try {
      const page = await context.newPage();
      for (const [url, status, heading, shot] of [
        [expired, 410, 'This link has expired', 'expired-link'],
        [altered, 403, 'This link is not valid', 'altered-link'],
      ] as const) {
        const res = await page.goto(onTestApi(herald, url));
        assert.equal(res?.status(), status);
        await page.getByRole('heading', { name: heading }).waitFor();
        await screenshot(page, shot);
      }
    } finally {
      await context.close();
    }
    assert.equal(await herald.db.preference.count({ where: { userId: user.id } }), 0);
  });

  it("with Chromium's own PushManager, the page reports what the browser answers and stores only a real subscription", async (t) => {
    const user = await c.createUser();
    const { context, page } = await openPage(user.id, DESKTOP);
    try {
      await context.grantPermissions(['notifications'], { origin: herald.apiUrl });
      await page.getByRole('button', { name: 'Get notifications in this browser' }).click();
      // Whatever the browser answers, the page says it; a failure stores nothing.
      await statusSays(
        page,
        /^(This browser now gets your notifications\.|This browser could not subscribe: .+)$/,
      );
      const said = (await page.getByRole('status').textContent()) ?? '';
      const stored = await herald.db.pushSubscription.count({ where: { userId: user.id } });
      t.diagnostic(`Chromium's PushManager.subscribe: ${said}`);
      if (said.startsWith('This browser could not subscribe')) assert.equal(stored, 0);
      else assert.equal(stored, 1);
      // The service worker itself is registered for real, its scope covering the page.
      const scope = await page.evaluate('navigator.serviceWorker.getRegistration().then((r) => r?.scope)');
      assert.equal(scope, `${herald.apiUrl}/preferences/`);
    } finally {
      await context.close();
    }
  });

  it('subscribes this browser through the page, delivers a test to it, and removes it', async () => {
    const user = await c.createUser();
    // Chromium cannot subscribe without its vendor's push service (see the test above), so PushManager
    // answers with a subscription on the local HTTPS push service; the rest of the page's path is real.
    const browserSide = createBrowserSubscription(pushService.endpointUrl(uniqueId('browser')));
    const context = await browser.newContext(DESKTOP);
    // A string, not a function: the test's own compiler would add helpers the page does not have.
    await context.addInitScript({
      content: `(() => {
        const subscription = ${JSON.stringify(browserSide.subscription)};
        let current = null;
        PushManager.prototype.subscribe = async function (options) {
          const key = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)));
          window.asked = {
            userVisibleOnly: options.userVisibleOnly,
            key: key.replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''),
          };
          current = {
            endpoint: subscription.endpoint,
            toJSON: () => subscription,
            unsubscribe: async () => { current = null; return true; },
          };
          return current;
        };
        PushManager.prototype.getSubscription = async () => current;
      })();`,
    });
    try {
      const page = await context.newPage();
      const link = await c.pageLink(user.id);
      await page.goto(onTestApi(herald, link.url));
      await page.getByText('This browser does not get your notifications.').waitFor();
      await page.getByRole('button', { name: 'Get notifications in this browser' }).click();
      await statusSays(page, 'This browser now gets your notifications.');
      assert.deepEqual(await page.evaluate('window.asked'), {
        userVisibleOnly: true,
        key: vapid.publicKey,
      });
      const stored = await herald.db.pushSubscription.findFirstOrThrow({ where: { userId: user.id } });
      assert.equal(stored.endpoint, browserSide.subscription.endpoint);
      assert.equal(stored.p256dh, browserSide.subscription.keys.p256dh);
      assert.equal(stored.auth, browserSide.subscription.keys.auth);
      await page.getByText('This browser gets your notifications.').waitFor();

      // "Send me a test": a real notification, by email and to this browser's push endpoint.
      await page.getByRole('button', { name: 'Send me a test' }).click();
      const result = page.locator('#test-result');
      await eventually(async () => /^Test sent\./.test((await result.textContent()) ?? ''), {
        what: 'the test result',
        timeoutMs: 30_000,
      });
      assert.equal(await result.textContent(), 'Test sent. Email: sent. Push (browsers and phones): sent.');
      const mail = await smtp.waitFor((m) => m.envelopeTo.includes(user.email));
      assert.equal(mail.parsed.subject, 'Test notification');
      const pushed = await pushService.waitFor((r) => browserSide.subscription.endpoint.endsWith(r.path));
      const payload = JSON.parse(browserSide.decrypt(pushed.body).toString('utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(payload.title, 'Test notification');
      assert.equal(payload.category, 'test');
      await screenshot(page, 'push-and-test');

      await page.getByRole('button', { name: 'Stop notifications in this browser' }).click();
      await statusSays(page, 'This browser no longer gets your notifications.');
      assert.equal(await herald.db.pushSubscription.count({ where: { userId: user.id } }), 0);
    } finally {
      await context.close();
    }
  });
});
