// The operator's view in a real browser: Debian's Chromium (driven by playwright-core) opens the Web UI
// of the test run's Temporal dev server, filters the failed notifications, opens one, and finds its
// pending SMS delivery with the attempt count and the last failure. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumMissingReason, chromiumPath } from '../tools/ensure-tools.mjs';
import { projectRoot } from '../tools/local-stack/paths.js';
import { SEARCH_ATTRIBUTES } from '../src/workflows/definitions.js';
import { useOperatorStack } from './support/operator-stack.js';
import { eventually, untilStatus } from './support/stack.js';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'operators-ui');
const UI_TIMEOUT_MS = 60_000;
const SMS_FAILURE = 'SMS gateway 503: Service Unavailable';

/** The first visible element with this text (the UI keeps hidden copies for narrow screens). */
const shown = (page: Page, text: string | RegExp) => page.getByText(text).filter({ visible: true }).first();

/** Loads the page until the text shows: the UI's list reads visibility, which lags a little. */
async function openUntilVisible(page: Page, url: string, text: string): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    await page.goto(url);
    try {
      await shown(page, text).waitFor({ timeout: 10_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${path.relative(projectRoot, file)}`);
}

describe('operators in the Temporal Web UI (Chromium)', () => {
  const t = useOperatorStack();
  let browser: Browser;

  before(async () => {
    if (!chromiumMissingReason()) browser = await chromium.launch({ executablePath: chromiumPath });
  });
  after(async () => {
    await browser?.close();
  });

  it('filters DeliveryStatus="failed", opens the notification and shows its pending SMS delivery', async () => {
    // Never skipped: without Chromium or the UI the test fails and says why.
    const missing = chromiumMissingReason();
    if (missing) assert.fail(missing);
    const uiUrl = process.env.HERALD_TEST_TEMPORAL_UI;
    if (!uiUrl) assert.fail('HERALD_TEST_TEMPORAL_UI is not set: run the test through test/run.ts');
    mkdirSync(ARTIFACTS, { recursive: true });

    const user = await t.createUser();
    t.smtp.failNext(550); // the email is refused for good
    t.sms.failNext(100_000, { status: 503 }); // the SMS gateway keeps failing for now
    const { id, workflowId } = await t.notify(user.id, ['email', 'sms']);
    const handle = t.herald.temporal.workflow.getHandle(workflowId);
    let page: Page | undefined;
    try {
      // Failed in search while the SMS still retries, with a few attempts behind it. What was last seen
      // goes into the failure: a loaded CI machine can be slow here, and the reason should show.
      let seen = 'nothing yet';
      await eventually(
        async () => {
          const description = await handle.describe();
          const status = description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.DeliveryStatus);
          const pending = description.raw.pendingActivities ?? [];
          seen = `DeliveryStatus ${status}; pending: ${pending.map((a) => `${a.activityType?.name} attempt ${a.attempt}`).join(', ') || 'none'}`;
          const sms = pending.find((activity) => activity.activityType?.name === 'deliverSms');
          return status === 'failed' && (sms?.attempt ?? 0) >= 2;
        },
        { what: 'the notification to be failed with a pending deliverSms', timeoutMs: 60_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last seen: ${seen}`);
      });

      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(UI_TIMEOUT_MS);

      // 1. The workflow list, filtered as an operator would type it.
      const query = 'DeliveryStatus="failed"';
      await openUntilVisible(
        page,
        `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`,
        workflowId,
      );
      await shown(page, 'DeliveryStatus = "failed"').waitFor();
      await screenshot(page, '1-failed-notifications');

      // 2. The notification's page, from its link in the list; its history shows the pending activity.
      await page.getByRole('link', { name: workflowId }).first().click();
      await page.getByRole('heading', { name: workflowId }).waitFor();
      await page.getByRole('tab', { name: /Event History/ }).click();
      await shown(page, /Pending Activity$/).waitFor(); // its icon's title reads "Activity" first
      await shown(page, 'deliverSms').waitFor();
      await screenshot(page, '2-workflow');

      // 3. The Pending Activities tab: the card with the attempt count and the last failure.
      await page.getByRole('tab', { name: /Pending Activities/ }).click();
      await shown(page, SMS_FAILURE).waitFor();
      const card = await page.getByRole('main').innerText();
      assert.match(card, /deliverSms/);
      assert.match(card, /Last Failure/);
      const attempt = /Attempt\s+(\d+)\s*\//.exec(card);
      assert.ok(attempt, `no attempt count on the Pending Activities tab:\n${card}`);
      assert.ok(Number(attempt[1]) >= 2, `attempt ${attempt[1]} < 2`);
      await screenshot(page, '3-pending-activity');
      console.log(`pending deliverSms shown at attempt ${attempt[1]}, last failure "${SMS_FAILURE}"`);
    } catch (error) {
      if (page) await screenshot(page, 'failure').catch(() => undefined);
      throw error;
    } finally {
      await page?.close();
      // Leave nothing failed-and-running behind for the other tests on this server.
      await handle.signal('cancel', { reason: 'browser test over' });
      await untilStatus(t.herald, id, 'cancelled');
    }
  });
});
