// The Telegram Acknowledge button on real parts: a notification sent with `ack: true` reaches the chat
// with an inline button whose callback_data is signed and fits Telegram's 64 bytes; a real callback_query
// through the Bot API fake from the recipient's chat records the acknowledgement, answers the tap, turns
// the button into "Acknowledged" and tells the running workflow. A tap from another chat, or a forged
// payload, is answered with why and changes nothing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';
import { person, useBotStack } from './support/bot-stack.js';
import { PREFERENCES_SECRET } from './support/preference-center.js';
import { eventually, terminateWorkflowsSince, uniqueId } from './support/stack.js';

const started = new Date();

describe('telegram Acknowledge button', () => {
  // Registered first, so it runs before the stack stops.
  after(() => terminateWorkflowsSince(t.herald.temporal, started, 'acknowledge button tests are over'));
  // Nothing listens on port 1: email keeps retrying, so the workflow stays open to hear of the tap.
  const t = useBotStack({
    PREFERENCES_SECRET,
    SMTP_URL: 'smtp://127.0.0.1:1',
    TELEGRAM_BOT_RATE_LIMIT: '1000',
  });

  async function notified(title: string, fields: Record<string, unknown> = {}) {
    const ada = person(t);
    const created = await t.herald.api('/v1/users', {
      json: {
        externalId: uniqueId('ack'),
        telegramChatId: ada.chatId,
        email: `${uniqueId('ack')}@example.test`,
      },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const user = (await created.json()) as { id: string };
    const res = await t.herald.api('/v1/notifications', {
      json: {
        userId: user.id,
        category: 'alerts',
        title,
        body: 'Please confirm.',
        channels: ['telegram', 'email'],
        ...fields,
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const id = ((await res.json()) as { id: string }).id;
    const message = await t.fake.waitFor((m) => m.chatId === ada.chatId && m.plainText.startsWith(title));
    return { ada, id, message };
  }
  const acknowledgedAt = async (id: string) =>
    (await t.herald.db.delivery.findFirst({ where: { notificationId: id, channel: 'telegram' } }))
      ?.acknowledgedAt ?? null;

  it('sends a signed button that the recipient’s tap acknowledges, once', async () => {
    const { ada, id, message } = await notified('Server down', { ack: true });
    const keyboard = (
      message.params.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }
    ).inline_keyboard;
    assert.equal(keyboard.length, 1);
    const button = keyboard[0]![0]!;
    assert.equal(button.text, 'Acknowledge');
    assert.match(button.callback_data, /^ack:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{16}$/);
    assert.ok(Buffer.byteLength(button.callback_data) <= 64);

    const answer = await ada.taps(message.messageId, button.callback_data);
    assert.equal(answer.text, 'Acknowledged. Thank you.');
    const edit = await t.fake.waitForEdit(
      (e) => e.chatId === ada.chatId && e.messageId === message.messageId,
    );
    assert.equal(edit.method, 'editMessageReplyMarkup');
    assert.equal(edit.replyMarkup?.inline_keyboard?.[0]?.[0]?.text, '✅ Acknowledged');
    const first = await acknowledgedAt(id);
    assert.ok(first, 'the delivery records the acknowledgement');

    const status = await eventually(
      async () => {
        const s = await t.herald.temporal.workflow.getHandle(workflowIdFor(id)).query(statusQuery);
        return s.engagement?.acknowledged && s;
      },
      { what: 'the workflow to hear of the acknowledgement' },
    );
    assert.equal(status.engagement?.acknowledged?.channel, 'telegram');
    assert.equal(status.engagement?.acknowledged?.at, first.toISOString());
    const view = (await (await t.herald.api(`/v1/notifications/${id}`)).json()) as {
      deliveries: { channel: string; acknowledgedAt: string | null }[];
    };
    assert.equal(view.deliveries.find((d) => d.channel === 'telegram')?.acknowledgedAt, first.toISOString());

    // A second tap (the redrawn button) changes nothing.
    const again = await ada.taps(message.messageId, button.callback_data);
    assert.equal(again.text, 'Already acknowledged.');
    assert.deepEqual(await acknowledgedAt(id), first);
  });

  it('refuses a tap from another chat and a forged payload, changing nothing', async () => {
    const { ada, id, message } = await notified('Disk failing', { ack: true });
    const data = (message.params.reply_markup as { inline_keyboard: { callback_data: string }[][] })
      .inline_keyboard[0]![0]!.callback_data;

    // Someone else's chat sends the same payload for the same message id.
    const eve = person(t);
    const foreign = await eve.taps(message.messageId, data);
    assert.match(foreign.text ?? '', /not for this chat/);
    assert.equal(foreign.showAlert, true);
    // The recipient's own chat, but the payload altered: the delivery id of another, or the MAC changed.
    const mac = data.slice(-16);
    const forgedMac = `${data.slice(0, -16)}${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    const forged = await ada.taps(message.messageId, forgedMac);
    assert.match(forged.text ?? '', /not valid/);
    // The recipient's chat, the right payload, but under another message of the bot.
    const elsewhere = await ada.taps(message.messageId + 1000, data);
    assert.match(elsewhere.text ?? '', /not for this chat/);

    assert.equal(await acknowledgedAt(id), null);
    const status = await t.herald.temporal.workflow.getHandle(workflowIdFor(id)).query(statusQuery);
    assert.equal(status.engagement?.acknowledged, undefined);
    assert.equal(
      t.fake.botMessage(message.messageId)?.replyMarkup?.inline_keyboard?.[0]?.[0]?.text,
      'Acknowledge',
    );
  });

  it('sends no button when the notification does not ask for an acknowledgement', async () => {
    const { message } = await notified('Just so you know', { channels: ['telegram'] });
    assert.equal(message.params.reply_markup, undefined);
  });
});
