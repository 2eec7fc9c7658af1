import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { TelegramApiError } from 'node-telegram-bot-api';
import {
  classifyTelegramError,
  createTelegramChannel,
  telegramChannel,
  TELEGRAM_TEXT_LIMIT,
} from '../../src/activities/channels/telegram/index.js';
import type {
  ChannelContext,
  ChannelProvider,
  OutgoingMessage,
  Recipient,
} from '../../src/activities/channels/channel.js';
import { loadConfig } from '../../src/platform/config.js';
import { startTelegramFake, type TelegramFake } from '../../tools/fakes/telegram-fake.js';
import { message } from '../support/messages.js';

const TOKEN = '123456:test-token';
const CHAT = '4242';

const recipient = (telegramChatId: string | null): Recipient => ({
  id: 'u-1',
  contacts: telegramChatId === null ? {} : { telegram: telegramChatId },
  locale: 'en',
  linkVersion: 0,
  pushSubscriptions: [],
});

/** A fresh fake and a channel pointed at it, both stopped when the test ends. */
async function setup(
  t: TestContext,
  options: { token?: string; timeoutMs?: number } = {},
): Promise<{ fake: TelegramFake; channel: ChannelProvider }> {
  const fake = await startTelegramFake({ token: TOKEN });
  const channel = createTelegramChannel({ token: TOKEN, ...options, apiUrl: fake.url });
  t.after(async () => {
    await channel.close();
    await fake.stop();
  });
  return { fake, channel };
}

/** The error a send rejects with; fails the test if it resolves. */
async function sendError(channel: ChannelProvider, to: Recipient, msg: OutgoingMessage): Promise<unknown> {
  return channel.send(to, msg).then(
    (result) => assert.fail(`expected the send to fail, got ${JSON.stringify(result)}`),
    (error: unknown) => error,
  );
}

test('delivers the escaped title and body as HTML, without a link preview', async (t) => {
  const { fake, channel } = await setup(t);
  const title = 'Invoice <b>#42</b> & co';
  const body = `<script>alert("x")</script> & <a href="https://evil.example">click</a>\nsecond line`;

  const result = await channel.send(recipient(CHAT), message(title, body));

  assert.equal(fake.messages.length, 1);
  const [sent] = fake.messages;
  assert.equal(sent!.chatId, CHAT);
  assert.equal(sent!.parseMode, 'HTML');
  assert.equal(
    sent!.text,
    '<b>Invoice &lt;b&gt;#42&lt;/b&gt; &amp; co</b>\n' +
      '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;a href="https://evil.example"&gt;click&lt;/a&gt;\n' +
      'second line',
  );
  // What the user sees is exactly the text given: nothing was taken as markup.
  assert.equal(sent!.plainText, `${title}\n${body}`);
  assert.deepEqual(sent!.params.link_preview_options, { is_disabled: true });
  assert.deepEqual(result, { providerMessageId: `${CHAT}:${sent!.messageId}` });
});

test('truncates a long body under the limit without splitting an entity or a surrogate pair', async (t) => {
  const { fake, channel } = await setup(t);
  const title = 'Weekly report';
  const body = '&<>'.repeat(1000) + '😀'.repeat(2000);

  await channel.send(recipient(CHAT), message(title, body));

  const [sent] = fake.messages;
  assert.equal(sent!.plainText.length, TELEGRAM_TEXT_LIMIT - 1); // the cut fell inside a pair: dropped
  assert.equal(sent!.plainText, `${title}\n${body}`.slice(0, TELEGRAM_TEXT_LIMIT - 2) + '…');
  assert.doesNotMatch(sent!.plainText, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  assert.ok(sent!.text.startsWith('<b>Weekly report</b>\n&amp;&lt;&gt;&amp;'));
});

test('429: transient with retry_after, and the library did not retry on its own', async (t) => {
  const { fake, channel } = await setup(t);
  fake.failNext(1, { status: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7 });

  const error = await sendError(channel, recipient(CHAT), message('T', 'B'));

  assert.deepEqual(channel.classify(error), {
    permanent: false,
    reason: 'Telegram 429: Too Many Requests: retry after 7',
    retryAfterMs: 7000,
  });
  assert.equal(fake.requestTimes.length, 1);
  assert.equal(fake.messages.length, 0);
  // The next attempt (Temporal's, after retry_after) goes through.
  await channel.send(recipient(CHAT), message('T', 'B'));
  assert.equal(fake.messages.length, 1);
});

test('403 bot blocked: permanent, with Telegram’s description', async (t) => {
  const { fake, channel } = await setup(t);
  fake.failChat(CHAT, { status: 403, description: 'Forbidden: bot was blocked by the user' });

  const error = await sendError(channel, recipient(CHAT), message('T', 'B'));

  assert.deepEqual(channel.classify(error), {
    permanent: true,
    reason: 'Telegram 403: Forbidden: bot was blocked by the user',
  });
  assert.equal(fake.requests.length, 1);
});

test('400 chat not found: permanent', async (t) => {
  const { fake, channel } = await setup(t);

  const error = await sendError(channel, recipient('not-a-chat'), message('T', 'B'));

  assert.deepEqual(channel.classify(error), {
    permanent: true,
    reason: 'Telegram 400: Bad Request: chat not found',
  });
  assert.equal(fake.requests.length, 1);
});

test('500: transient, not retried by the library', async (t) => {
  const { fake, channel } = await setup(t);
  fake.failNext(1, { status: 500, description: 'Internal Server Error', method: 'sendMessage' });

  const error = await sendError(channel, recipient(CHAT), message('T', 'B'));

  assert.deepEqual(channel.classify(error), {
    permanent: false,
    reason: 'Telegram 500: Internal Server Error',
  });
  assert.equal(fake.requests.length, 1);
});

test('a rejected bot token: permanent, saying so', async (t) => {
  const { fake, channel } = await setup(t, { token: '123456:wrong-token' });

  const failure = channel.classify(await sendError(channel, recipient(CHAT), message('T', 'B')));

  assert.equal(failure.permanent, true);
  assert.match(failure.reason, /^Telegram 401: Unauthorized \(the bot token was rejected/);
  assert.equal(fake.messages.length, 0);
});

test('connection refused: transient', async (t) => {
  const { fake, channel } = await setup(t);
  await fake.stop();

  const failure = channel.classify(await sendError(channel, recipient(CHAT), message('T', 'B')));

  assert.equal(failure.permanent, false);
  assert.match(failure.reason, /^Telegram unreachable: ECONNREFUSED/);
});

test('an answer slower than the request timeout: transient, sent once', async (t) => {
  const { fake, channel } = await setup(t, { timeoutMs: 200 });
  fake.delayNext(1, 5_000);

  const started = Date.now();
  const failure = channel.classify(await sendError(channel, recipient(CHAT), message('T', 'B')));

  assert.ok(Date.now() - started < 2_000, 'the send gave up at its timeout');
  assert.equal(failure.permanent, false);
  assert.match(failure.reason, /^Telegram timed out/);
  assert.equal(fake.requests.length, 1);
});

test('a user without a chat id: permanent, without calling Telegram', async (t) => {
  const { fake, channel } = await setup(t);

  const error = await sendError(channel, recipient(null), message('T', 'B'));

  assert.deepEqual(channel.classify(error), { permanent: true, reason: 'the user has no Telegram chat id' });
  assert.equal(fake.requests.length, 0);
});

test('close() cancels a send in flight; the failure is transient', async (t) => {
  const { fake, channel } = await setup(t);
  fake.delayNext(1, 5_000);

  const pending = sendError(channel, recipient(CHAT), message('T', 'B'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await channel.close();

  assert.equal(channel.classify(await pending).permanent, false);
  assert.equal(fake.messages.length, 0);
});

test('telegramChannel: configured by TELEGRAM_BOT_TOKEN, sends to TELEGRAM_API_URL', async (t) => {
  const fake = await startTelegramFake({ token: TOKEN });
  t.after(() => fake.stop());
  const base = { DATABASE_URL: 'postgres://herald@127.0.0.1/herald' };

  assert.equal(telegramChannel.isConfigured(loadConfig(base)), false);
  const config = loadConfig({ ...base, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_URL: fake.url });
  assert.equal(telegramChannel.isConfigured(config), true);
  assert.equal(telegramChannel.hasAddress(recipient(CHAT)), true);
  assert.equal(telegramChannel.hasAddress(recipient(null)), false);

  // The Telegram channel uses nothing from the context.
  const channel = telegramChannel.create(config, {} as ChannelContext);
  t.after(() => channel.close());
  await channel.send(recipient(CHAT), message('Hello', 'World'));
  assert.equal(fake.messages[0]?.plainText, 'Hello\nWorld');
});

test('classifyTelegramError: a migrated group names its new chat; unknown errors are transient', () => {
  const migrated = new TelegramApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
    migrate_to_chat_id: -1001234567890,
  });
  assert.deepEqual(classifyTelegramError(migrated), {
    permanent: true,
    reason:
      'Telegram 400: Bad Request: group chat was upgraded to a supergroup chat (the group is now chat -1001234567890)',
  });
  assert.deepEqual(classifyTelegramError(new Error('socket hang up')), {
    permanent: false,
    reason: 'socket hang up',
  });
  assert.deepEqual(classifyTelegramError('weird'), { permanent: false, reason: 'weird' });
});
