// <herald-inbox> in a real browser: Debian's Chromium (driven by playwright-core) opens an app's page,
// served over HTTP from another origin than Herald's, with the component embedded as docs/inbox.md says.
// A notification sent through POST /v1/notifications shows without a reload (the time is measured and
// printed); clicking it marks it read and the badge drops in a second tab too; "mark all read", the
// keyboard, infinite scroll, a link that opens, the theme and the phone layout. Screenshots go to
// test-artifacts/inbox/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumMissingReason, chromiumPath } from '../tools/ensure-tools.mjs';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { inboxClient, inboxEnv } from './support/inbox.js';
import { eventually, startHerald, testEnv, type RunningStack } from './support/stack.js';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'inbox');
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** The embedding app: a page with the three lines of the README, and a landing page for links. */
function startAppServer(port: number, apiUrl: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const token = url.searchParams.get('token') ?? '';
    const page =
      url.pathname === '/landing'
        ? '<h1>Landed</h1>'
        : `<header style="display:flex;justify-content:space-between;align-items:center;padding:0 1rem">
  <h1>Acme</h1>
  <script src="${apiUrl}/inbox/herald-inbox.js"></script>
  <herald-inbox token="${token}" style="--herald-inbox-accent: rgb(0, 128, 0)"></herald-inbox>
</header>
<main><p>The app's own content.</p></main>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme</title></head>
<body style="margin:0;font-family:sans-serif">${page}</body></html>`);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const bellLabel = (page: Page) => page.locator('herald-inbox .bell').getAttribute('aria-label');
const untilBell = (page: Page, label: string) =>
  eventually(async () => (await bellLabel(page)) === label, {
    what: `the bell to say "${label}"`,
    timeoutMs: 15_000,
    intervalMs: 50,
  });

describe('<herald-inbox> in Chromium', () => {
  let herald: RunningStack;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  const c = inboxClient(() => herald);

  before(async () => {
    const missing = chromiumMissingReason();
    if (missing) throw new Error(missing);
    mkdirSync(ARTIFACTS, { recursive: true });
    const appPort = await freePort();
    appUrl = `http://127.0.0.1:${appPort}`;
    herald = await startHerald(testEnv(inboxEnv({ INBOX_CORS_ORIGINS: appUrl })));
    app = await startAppServer(appPort, herald.apiUrl);
    browser = await chromium.launch({ executablePath: chromiumPath });
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => app?.close(resolve));
    await herald?.stop();
  });

  async function openApp(context: BrowserContext, token: string) {
    const page = await context.newPage();
    page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
    await page.goto(`${appUrl}/?token=${encodeURIComponent(token)}`);
    await page.evaluate(`window.arrived = [];
      document.querySelector('herald-inbox').addEventListener('herald-inbox-message', () => arrived.push(Date.now()))`);
    return page;
  }

  it('shows a notification live, in well under a second; a click reads it, in a second tab too', async () => {
    const { user, token } = await c.reader();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const [tab, other] = [await openApp(context, token), await openApp(context, token)];
      for (const page of [tab, other]) await untilBell(page, 'Notifications, no unread');
      await tab.locator('herald-inbox .bell').click();
      await tab.getByText('You are all caught up.').waitFor();

      const latencies: number[] = [];
      for (let i = 1; i <= 3; i++) {
        const res = await herald.api('/v1/notifications', {
          json: {
            userId: user.id,
            category: 'updates',
            channels: ['in_app'],
            title: `Live ${i}`,
            body: 'Now.',
          },
        });
        const accepted = Date.now();
        assert.equal(res.status, 202);
        await tab
          .getByRole('button', { name: new RegExp(`^Live ${i} ?, unread`) })
          .waitFor({ timeout: 15_000 });
        const [arrived] = (await tab.evaluate(`arrived.slice(-1)`)) as number[];
        latencies.push(arrived! - accepted);
      }
      console.log(`[inbox-ui] 202 to the message in the page: ${latencies.join(', ')} ms`);
      latencies.sort((a, b) => a - b);
      // The target is under a second; a shared 2-core machine gets slack for the slowest.
      assert.ok(latencies[1]! < 1000, `median ${latencies[1]} ms`);
      assert.ok(latencies[2]! < 3000, `slowest ${latencies[2]} ms`);
      for (const page of [tab, other]) await untilBell(page, 'Notifications, 3 unread');
      await tab.screenshot({ path: path.join(ARTIFACTS, 'desktop-open.png') });

      await tab.getByRole('button', { name: /^Live 2 ?, unread/ }).click();
      for (const page of [tab, other]) await untilBell(page, 'Notifications, 2 unread');
      await tab.getByRole('button', { name: /^Live 2(?! ?, unread)/ }).waitFor();
      await tab.getByRole('button', { name: 'Mark all read' }).click();
      for (const page of [tab, other]) await untilBell(page, 'Notifications, no unread');
      // The other tab's list follows when it opens.
      await other.locator('herald-inbox .bell').click();
      await other.getByRole('button', { name: /^Live 3(?! ?, unread)/ }).waitFor();
      assert.equal((await c.counts(token)).unread, 0);
    } finally {
      await context.close();
    }
  });

  it('opens a link, works with the keyboard, scrolls for more, and takes the page theme', async () => {
    const { user, token } = await c.reader();
    for (let i = 1; i <= 23; i++) {
      await c.notify(user.id, { title: `Older ${i}` });
      await c.stored(token, `Older ${i}`);
    }
    await c.notify(user.id, { title: 'Go somewhere', data: { url: `${appUrl}/landing` } });
    await c.stored(token, 'Go somewhere');
    const context = await browser.newContext();
    try {
      const page = await openApp(context, token);
      await untilBell(page, 'Notifications, 24 unread');
      assert.equal(await page.locator('herald-inbox .badge').textContent(), '24');

      // The keyboard: Tab reaches the bell, Enter opens the panel and focuses its heading, Escape closes.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(`document.activeElement.shadowRoot.activeElement.className`), 'bell');
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: /^Go somewhere ?, unread/ }).waitFor();
      assert.equal(await page.locator('herald-inbox .bell').getAttribute('aria-expanded'), 'true');
      assert.equal(await page.evaluate(`document.activeElement.shadowRoot.activeElement.tagName`), 'H2');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      assert.match(
        await page.evaluate<string>(`document.activeElement.shadowRoot.activeElement.textContent`),
        /^Go somewhere/,
      );
      await page.keyboard.press('ArrowDown');
      assert.match(
        await page.evaluate<string>(`document.activeElement.shadowRoot.activeElement.textContent`),
        /^Older 23/,
      );
      await page.keyboard.press('Escape');
      assert.equal(await page.locator('herald-inbox .bell').getAttribute('aria-expanded'), 'false');
      assert.equal(await page.evaluate(`document.activeElement.shadowRoot.activeElement.className`), 'bell');

      // Twenty at first; the rest when the list is scrolled to its end.
      await page.keyboard.press('Enter');
      const items = page.locator('herald-inbox li[data-id]');
      await eventually(async () => (await items.count()) === 20, { what: 'the first page' });
      await page.locator('herald-inbox li[data-id]').last().scrollIntoViewIfNeeded();
      await eventually(async () => (await items.count()) === 24, { what: 'the second page' });

      // The theme: the page's accent colours the unread dots.
      const dot = await page.evaluate(
        `getComputedStyle(document.querySelector('herald-inbox').shadowRoot.querySelector('.unread .dot')).backgroundColor`,
      );
      assert.equal(dot, 'rgb(0, 128, 0)');

      // Every control has an accessible name.
      const unnamed = await page.evaluate(`[...document.querySelector('herald-inbox').shadowRoot
        .querySelectorAll('button, a')].filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.outerHTML)`);
      assert.deepEqual(unnamed, []);

      await page.getByRole('link', { name: /^Go somewhere/ }).click();
      await page.waitForURL(`${appUrl}/landing`);
      const read = await eventually(
        async () => (await c.feed(token)).items.find((i) => i.title === 'Go somewhere')?.readAt,
      );
      assert.ok(read);
      const view = (await (await herald.api(`/v1/notifications?userId=${user.id}&limit=1`)).json()) as {
        items: { id: string }[];
      };
      const delivery = (
        (await (await herald.api(`/v1/notifications/${view.items[0]!.id}`)).json()) as {
          deliveries: { clickedAt: string | null }[];
        }
      ).deliveries[0]!;
      assert.ok(delivery.clickedAt, 'the click is recorded on the delivery');
    } finally {
      await context.close();
    }
  });

  it('fits a phone screen', async () => {
    const { user, token } = await c.reader();
    await c.notify(user.id, {
      title: 'A rather long title that has to wrap on a narrow screen',
      body: 'And a body that says a little more about what happened, also long enough to wrap.',
      data: {
        actions: [
          { id: 'ok', label: 'OK' },
          { id: 'later', label: 'Remind me later' },
        ],
      },
    });
    await c.stored(token, 'A rather long title that has to wrap on a narrow screen');
    const context = await browser.newContext(PHONE);
    try {
      const page = await openApp(context, token);
      await untilBell(page, 'Notifications, 1 unread');
      await page.locator('herald-inbox .bell').tap();
      await page.getByRole('button', { name: 'Remind me later' }).waitFor();
      const panel = await page.locator('herald-inbox .panel').boundingBox();
      assert.ok(panel && panel.x >= 0 && panel.x + panel.width <= 390, JSON.stringify(panel));
      assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'phone-open.png') });
      await page.getByRole('button', { name: 'OK' }).tap();
      await untilBell(page, 'Notifications, no unread');
    } finally {
      await context.close();
    }
  });

  it('acknowledges a message that asks, with its Acknowledge button', async () => {
    const { user, token } = await c.reader();
    const id = await c.notify(user.id, { title: 'Confirm the change window', ack: true });
    await c.stored(token, 'Confirm the change window');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await openApp(context, token);
      await untilBell(page, 'Notifications, 1 unread');
      await page.locator('herald-inbox .bell').click();
      await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
      const done = page.getByRole('button', { name: '✓ Acknowledged' });
      await done.waitFor();
      assert.equal(await done.isDisabled(), true);
      await untilBell(page, 'Notifications, no unread');
      const delivery = await herald.db.delivery.findFirst({
        where: { notificationId: id, channel: 'in_app' },
      });
      assert.ok(delivery?.acknowledgedAt, 'the in_app delivery records it');
      await page.screenshot({ path: path.join(ARTIFACTS, 'acknowledged.png') });
    } finally {
      await context.close();
    }
  });
});
