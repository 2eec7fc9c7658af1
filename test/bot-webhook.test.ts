// The bot in webhook mode: Telegram POSTs updates to the API's /telegram/webhook, which checks the
// secret header and keeps them for the bot process; also the per-chat rate limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from './support/stack.js';
import { useBotStack } from './support/bot-stack.js';

describe('telegram bot (webhook mode)', () => {
  const SECRET = 'webhook-secret-0123456789abcdef';
  const t = useBotStack(
    {
      TELEGRAM_WEBHOOK_URL: 'https://herald.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_BOT_RATE_LIMIT: '3',
    },
    { queues: [] },
  );
  let nextUpdateId = 1_000_000;
  const post = (update: unknown, secret?: string) =>
    fetch(`${t.herald.apiUrl}/telegram/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }),
      },
      body: JSON.stringify(update),
    });
  const message = (chatId: string, text: string) => ({
    update_id: nextUpdateId++,
    message: {
      message_id: nextUpdateId,
      date: 0,
      chat: { id: Number(chatId), type: 'private' },
      from: { id: Number(chatId), is_bot: false, first_name: 'Ada' },
      text,
    },
  });

  it('registers the webhook with its secret instead of polling', () => {
    assert.equal(t.bot.mode, 'webhook');
    assert.deepEqual(t.fake.webhook, {
      url: 'https://herald.example/telegram/webhook',
      secretToken: SECRET,
      allowedUpdates: ['message', 'callback_query'],
    });
    assert.equal(t.fake.requests.filter((r) => r.method === 'getUpdates').length, 0);
  });

  it('handles an update POSTed with the secret, once, and refuses any other', async () => {
    const { db } = t.herald;
    const chatId = '5550001';
    const update = message(chatId, '/start');
    const res = await post(update, SECRET);
    assert.equal(res.status, 200);
    const reply = await t.fake.waitFor((m) => m.chatId === chatId);
    assert.match(reply.plainText, /^Hello! I am Herald's bot/);
    assert.ok(await db.telegramChat.findUnique({ where: { chatId } }));
    // Telegram redelivers what it got no 200 for: the same update_id is handled once.
    assert.equal((await post(update, SECRET)).status, 200);
    await eventually(async () => (await db.telegramUpdate.count({ where: { handledAt: null } })) === 0, {
      what: 'the inbox to empty',
    });

    const stranger = '5550002';
    for (const secret of [undefined, '', 'wrong-secret-0123456789abcdef', SECRET + 'x']) {
      const refused = await post(message(stranger, '/start'), secret);
      assert.equal(refused.status, 401, String(secret));
      assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    assert.equal((await post({ update_id: 'one' }, SECRET)).status, 400);
    assert.equal(
      (await post({ update_id: nextUpdateId++, message: { text: 'a\u0000b' } }, SECRET)).status,
      400,
    );
    assert.equal((await post('[', SECRET)).status, 400);
    // A later update comes through, and nothing the refused ones carried was stored or answered.
    await post(message(chatId, '/help'), SECRET);
    await t.fake.waitFor((m) => m.chatId === chatId && /^What I can do/.test(m.plainText));
    assert.equal(await db.telegramChat.count({ where: { chatId: stranger } }), 0);
    assert.equal(t.fake.messages.filter((m) => m.chatId === stranger).length, 0);
    assert.equal(t.fake.messages.filter((m) => m.chatId === chatId && /^Hello!/.test(m.plainText)).length, 1);
  });

  it('limits each chat: a flood gets one warning, other chats are served', async () => {
    const flooder = '5550003';
    for (let i = 0; i < 6; i++) assert.equal((await post(message(flooder, '/help'), SECRET)).status, 200);
    await post(message('5550004', '/help'), SECRET);
    await t.fake.waitFor((m) => m.chatId === '5550004');
    await eventually(
      async () => (await t.herald.db.telegramUpdate.count({ where: { handledAt: null } })) === 0,
      {
        what: 'the inbox to empty',
      },
    );
    const replies = t.fake.messages
      .filter((m) => m.chatId === flooder)
      .map((m) => m.plainText.split('\n')[0]);
    assert.deepEqual(replies, [
      'What I can do:',
      'What I can do:',
      'What I can do:',
      'Too many messages: please wait 20 s.',
    ]);
  });
});
