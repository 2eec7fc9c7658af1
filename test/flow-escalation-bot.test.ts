// The escalation of issue 18 end to end with the bot: a flow sends on Telegram with an Acknowledge button,
// waits 5 s for it, then emails. A real callback_query through the Bot API fake from the recipient's chat
// stops the email and is recorded; without a tap the email comes after the wait.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { person, useBotStack } from './support/bot-stack.js';
import { PREFERENCES_SECRET } from './support/preference-center.js';
import { eventually, uniqueId, untilStatus } from './support/stack.js';

const ESCALATION = {
  steps: [
    { type: 'send', channels: ['telegram'], ack: true },
    { type: 'wait', until: 'acknowledged', timeout: '5s' },
    { type: 'send', channels: ['email'] },
  ],
};

describe('escalation through the bot: telegram with a button, then email', () => {
  let smtp: SmtpSink;
  // Filled before the stack starts (this hook is registered first, so it runs first).
  const env: Record<string, string> = { PREFERENCES_SECRET, TELEGRAM_BOT_RATE_LIMIT: '1000' };
  before(async () => {
    smtp = await startSmtpSink();
    env.SMTP_URL = smtp.url;
  });
  const t = useBotStack(env);
  after(() => smtp?.close());

  let flowKey: string;
  before(async () => {
    flowKey = uniqueId('escalation').toLowerCase();
    const res = await t.herald.api(`/v1/flows/${flowKey}`, { method: 'PUT', json: ESCALATION });
    assert.equal(res.status, 201, await res.clone().text());
  });

  async function escalate(title: string) {
    const ada = person(t);
    const email = `${uniqueId('esc')}@example.test`;
    const created = await t.herald.api('/v1/users', {
      json: { externalId: uniqueId('esc'), telegramChatId: ada.chatId, email },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const user = (await created.json()) as { id: string };
    const res = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'alerts', title, body: 'Please confirm.', flow: flowKey },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const id = ((await res.json()) as { id: string }).id;
    const message = await t.fake.waitFor((m) => m.chatId === ada.chatId && m.plainText.startsWith(title));
    return { ada, id, email, message, sentAt: Date.now() };
  }

  it('sends no email when the recipient taps Acknowledge in time, and records the tap', async () => {
    const { ada, id, email, message } = await escalate('Database down');
    const button = (message.params.reply_markup as { inline_keyboard: { callback_data: string }[][] })
      .inline_keyboard[0]![0]!;
    const answer = await ada.taps(message.messageId, button.callback_data);
    assert.equal(answer.text, 'Acknowledged. Thank you.');
    await untilStatus(t.herald, id, 'sent');
    const delivery = await t.herald.db.delivery.findFirst({
      where: { notificationId: id, channel: 'telegram' },
    });
    assert.ok(delivery?.acknowledgedAt, 'the acknowledgement is recorded');
    const view = (await (await t.herald.api(`/v1/notifications/${id}`)).json()) as {
      flowSteps: { path: string; type: string; outcome: string }[];
      deliveries: { channel: string }[];
    };
    assert.deepEqual(
      view.flowSteps.map((s) => [s.path, s.type, s.outcome]),
      [
        ['0', 'send', 'sent'],
        ['1', 'wait', 'acknowledged'],
      ],
    );
    assert.deepEqual(
      view.deliveries.map((d) => d.channel),
      ['telegram'],
    );
    // Past the wait's 5 s: still no email.
    await new Promise((r) => setTimeout(r, 6_000));
    assert.equal(smtp.messages.filter((m) => m.envelopeTo.includes(email)).length, 0);
  });

  it('emails after the wait when nobody taps', async () => {
    const { id, email, sentAt } = await escalate('Disk full');
    const handle = t.herald.temporal.workflow.getHandle(workflowIdFor(id));
    await eventually(async () => (await handle.query(statusQuery)).flowStep?.type === 'wait');
    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(email), 20_000);
    assert.ok(mail.at - sentAt >= 4_000, `the email came ${mail.at - sentAt} ms after the Telegram message`);
    await untilStatus(t.herald, id, 'sent');
  });
});
