// Acknowledging by link, on real parts: a notification sent with `ack: true` carries a signed acknowledge
// link in its email; opening it (GET) shows a page and changes nothing, its button (POST) records the
// acknowledgement on the delivery and tells the running workflow (its status query shows
// engagement.acknowledged); a forged, altered, expired, revoked or another user's link is refused with a
// clear page and changes nothing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createAcknowledgementLinks } from '../src/domain/acknowledgement-links.js';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import {
  PREFERENCES_SECRET,
  PUBLIC_URL,
  onTestApi,
  preferenceCenterEnv,
  preferenceClient,
} from './support/preference-center.js';
import { eventually, terminateWorkflowsSince, useEmailStack } from './support/stack.js';

const started = new Date();
// Nothing listens on port 1: SMS keeps retrying, so the notification's workflow stays open to hear of it.
const OPEN_LANE = { SMS_PROVIDER: 'http', SMS_HTTP_URL: 'http://127.0.0.1:1/sms' };

/** The acknowledge link in an email's text part. */
function ackLink(text: string): string {
  const match = /^Acknowledge: (\S+)$/m.exec(text);
  assert.ok(match, `no acknowledge link in:\n${text}`);
  return match[1]!;
}

describe('acknowledge links', () => {
  // Registered first, so it runs before the stack stops.
  after(() => terminateWorkflowsSince(t.herald.temporal, started, 'acknowledge link tests are over'));
  const t = useEmailStack(preferenceCenterEnv(OPEN_LANE));
  const c = preferenceClient(() => t.herald);

  const delivery = async (id: string, channel = 'email') =>
    (await c.view(id)).deliveries.find((d) => d.channel === channel) as unknown as {
      acknowledgedAt: string | null;
      status: string;
    };
  /** What a refused link must leave as it was: every delivery of the user's notification. */
  const deliveriesOf = (notificationId: string) =>
    t.herald.db.delivery.findMany({ where: { notificationId }, orderBy: { channel: 'asc' } });

  async function sentWithAck(title: string) {
    const user = await c.createUser({ phone: '+15550100200' });
    const id = await c.notify(user.id, 'alerts', { title, channels: ['email', 'sms'], ack: true });
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email) && m.parsed.subject === title);
    return { user, id, mail, link: ackLink(mail.parsed.text ?? '') };
  }

  it('puts a signed link in the email that a GET only shows and a POST records and signals', async () => {
    const { id, mail, link } = await sentWithAck('Disk almost full');
    assert.match(link, new RegExp(`^${PUBLIC_URL}/ack/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
    assert.ok(String(mail.parsed.html).includes(`href="${link}"`), 'the HTML part links it as a button');
    // The notification says it asked.
    assert.equal(((await c.view(id)) as unknown as { ack: boolean }).ack, true);

    const page = await fetch(onTestApi(t.herald, link));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<form method="post"/);
    assert.match(html, /Disk almost full/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal((await delivery(id)).acknowledgedAt, null, 'a GET (a mail scanner) acknowledged it');

    const posted = await fetch(onTestApi(t.herald, link), { method: 'POST' });
    assert.equal(posted.status, 200);
    assert.match(await posted.text(), /Acknowledged/);
    const first = (await delivery(id)).acknowledgedAt;
    assert.ok(first, 'the delivery records the acknowledgement');

    const status = await eventually(
      async () => {
        const s = await t.herald.temporal.workflow.getHandle(workflowIdFor(id)).query(statusQuery);
        return s.engagement?.acknowledged && s;
      },
      { what: 'the workflow to hear of the acknowledgement' },
    );
    assert.equal(status.engagement?.acknowledged?.channel, 'email');
    assert.equal(status.engagement?.acknowledged?.at, first);
    assert.equal(status.state, 'delivering', 'the workflow was still open (SMS retrying)');

    // Again: recorded once, the page says so.
    const again = await fetch(onTestApi(t.herald, link), { method: 'POST' });
    assert.equal(again.status, 200);
    assert.equal((await delivery(id)).acknowledgedAt, first);
    const shown = await (await fetch(onTestApi(t.herald, link))).text();
    assert.match(shown, /Already acknowledged/);
  });

  it('refuses altered, forged, expired, revoked and other users’ links, changing nothing', async () => {
    const { user, id, link } = await sentWithAck('Backup failed');
    await eventually(async () => (await delivery(id)).status === 'sent', { what: 'the email recorded sent' });
    const token = link.split('/').at(-1)!;
    const before = await deliveriesOf(id);
    const emailDelivery = before.find((d) => d.channel === 'email')!;
    const other = await c.createUser();

    const forger = createAcknowledgementLinks({
      secret: 'not-the-secret-0123456789abcdefghijkl',
      publicUrl: PUBLIC_URL,
    });
    const genuine = createAcknowledgementLinks({ secret: PREFERENCES_SECRET, publicUrl: PUBLIC_URL });
    const longAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    const cases: [string, string, number, RegExp][] = [
      ['altered', `${token.slice(0, 10)}A${token.slice(11)}`, 403, /not valid/],
      ['forged', forger.url(emailDelivery.id, { id: user.id, linkVersion: 0 }), 403, /not valid/],
      ['expired', genuine.url(emailDelivery.id, { id: user.id, linkVersion: 0 }, longAgo), 410, /expired/],
      // Genuinely signed, but for a user the delivery is not theirs: nothing to acknowledge.
      ['another user’s', genuine.url(emailDelivery.id, { id: other.id, linkVersion: 0 }), 404, /Nothing/],
    ];
    for (const [what, bad, status, text] of cases) {
      const path = bad.startsWith('https://') ? onTestApi(t.herald, bad) : `${t.herald.apiUrl}/ack/${bad}`;
      for (const method of ['GET', 'POST']) {
        const res = await fetch(path, { method });
        assert.equal(res.status, status, `${what} link, ${method}`);
        assert.match(await res.text(), text, `${what} link, ${method}`);
      }
    }
    assert.deepEqual(await deliveriesOf(id), before, 'a refused link changed a delivery');

    // Revoking the user's links voids this one too.
    const revoked = await t.herald.api(`/v1/users/${user.id}/links/revoke`, { method: 'POST' });
    assert.equal(revoked.status, 200, await revoked.clone().text());
    const res = await fetch(onTestApi(t.herald, link), { method: 'POST' });
    assert.equal(res.status, 403);
    assert.deepEqual(await deliveriesOf(id), before, 'a revoked link changed a delivery');
  });
});
