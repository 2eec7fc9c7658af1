// The interactive API docs in a real browser: Debian's Chromium (through playwright-core) opens /docs,
// authorizes with an API key, sends a notification with "Try it out" and sees the 202, with the page's
// Content-Security-Policy in force and nothing loaded from another origin. Screenshots: test-artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumMissingReason, chromiumPath } from '../tools/ensure-tools.mjs';
import { projectRoot } from '../tools/local-stack/paths.js';
import { TEST_API_KEY, uniqueId, untilStatus, useEmailStack } from './support/stack.js';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'api-docs');

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${path.relative(projectRoot, file)}`);
}

describe('interactive API docs at /docs (Chromium)', () => {
  const t = useEmailStack();
  let browser: Browser;
  before(async () => {
    if (!chromiumMissingReason()) browser = await chromium.launch({ executablePath: chromiumPath });
  });
  after(async () => {
    await browser?.close();
  });

  it('authorizes with a key, sends a notification with "Try it out" and shows the 202', async () => {
    // Never skipped: without Chromium the test fails and says why.
    const missing = chromiumMissingReason();
    if (missing) assert.fail(missing);
    mkdirSync(ARTIFACTS, { recursive: true });
    const user = (await (
      await t.herald.api('/v1/users', {
        json: { externalId: uniqueId('docs'), contacts: { email: 'docs@example.test' } },
      })
    ).json()) as { id: string };

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    try {
      const response = await page.goto(`${t.herald.apiUrl}/docs`);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.getByRole('button', { name: 'Authorize' }).first().click();
      // The first scheme is the API key (bearer); the codec and preference-page tokens follow it.
      const apiKey = page.locator('.modal-ux .auth-container').first();
      await apiKey.locator('input').fill(TEST_API_KEY);
      await apiKey.locator('button.authorize').click();
      await apiKey.locator('button.btn-done').click();

      const operation = page.locator('.opblock-post', {
        has: page.locator('[data-path="/v1/notifications"]'),
      });
      await operation.locator('.opblock-summary').click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.locator('input[placeholder="Idempotency-Key"]').fill(uniqueId('docs-key'));
      const body = {
        userId: user.id,
        category: 'docs',
        title: 'From the docs',
        body: 'Sent with Try it out',
        channels: ['email'],
      };
      await operation.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2));
      await operation.getByRole('button', { name: 'Execute' }).click();

      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor({ timeout: 20_000 });
      await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
      await screenshot(page, 'try-it-out');
      assert.equal((await status.innerText()).trim(), '202');
      const answer = JSON.parse(
        await operation.locator('.live-responses-table .microlight').first().innerText(),
      ) as {
        id: string;
      };
      await untilStatus(t.herald, answer.id, 'sent');
      const apiAnswer = await t.herald.api(`/v1/notifications/${answer.id}`);
      assert.equal(
        apiAnswer.headers.get('content-security-policy'),
        null,
        "the page's policy stays on /docs",
      );
      await t.smtp.waitFor((mail) => mail.parsed.subject === 'From the docs');

      assert.deepEqual([...origins], [t.herald.apiUrl], 'everything comes from the API itself');
      assert.deepEqual(problems, [], 'no script error and no Content-Security-Policy violation');
    } catch (error) {
      await screenshot(page, 'failure').catch(() => undefined);
      throw error;
    } finally {
      await page.close();
    }
  });
});
