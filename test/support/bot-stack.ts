// Herald with its Telegram bot, against the Telegram fake: a test talks to the bot as a person would.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startBot, type RunningBot } from '../../src/bot/runner.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Db } from '../../src/store/db.js';
import type { QueueName } from '../../src/workers/create-workers.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './stack.js';
import {
  startTelegramFake,
  type ReceivedTelegramMessage,
  type TelegramFake,
} from '../../tools/fakes/telegram-fake.js';
import { startSmtpSink, type SmtpSink } from '../../tools/fakes/smtp-sink.js';
import { startSmsGateway, type SmsGateway } from '../../tools/fakes/sms-gateway.js';

export const BOT_TOKEN = '424242:bot-test-token';

export interface BotStack {
  fake: TelegramFake;
  herald: RunningStack;
  bot: RunningBot;
  /** Where the bot sends verification codes (with `options.codeSinks`). */
  smtp?: SmtpSink;
  sms?: SmsGateway;
}

/** Before/after hooks running the fake, Herald (workers and API) and the bot on them. */
export function useBotStack(
  env: Record<string, string> = {},
  /**
   * `codeSinks`: an SMTP sink and an SMS gateway that the bot (only) sends verification codes to; the
   * workers still see email and SMS as not configured.
   */
  options: { queues?: readonly QueueName[]; codeSinks?: boolean } = {},
): BotStack {
  const stack = {} as BotStack;
  before(async () => {
    stack.fake = await startTelegramFake({ token: BOT_TOKEN });
    const config = testEnv({ TELEGRAM_BOT_TOKEN: BOT_TOKEN, TELEGRAM_API_URL: stack.fake.url, ...env });
    stack.herald = await startHerald(config, { queues: options.queues });
    const logger = createLogger('bot-test', 'silent');
    let botConfig = config;
    if (options.codeSinks) {
      stack.smtp = await startSmtpSink();
      stack.sms = await startSmsGateway();
      botConfig = testEnv({
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_API_URL: stack.fake.url,
        ...env,
        SMTP_URL: stack.smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: stack.sms.url,
      });
    }
    stack.bot = await startBot(
      { db: stack.herald.db, temporal: stack.herald.temporal, logger, config: botConfig },
      { pollTimeoutS: 5, inboxIntervalMs: 50 },
    );
  });
  after(async () => {
    await stack.bot?.stop();
    await stack.herald?.stop();
    await stack.fake?.stop();
    await stack.smtp?.close();
    await stack.sms?.stop();
  });
  return stack;
}

let chats = 0;
/** A private chat id no other test uses. */
export const newChatId = () => String(7_000_000_000 + (Date.now() % 1_000_000) * 100 + chats++);

/** One person in their private chat with the bot. */
export function person(stack: BotStack, chatId = newChatId()) {
  const repliesAfter = (messageId: number, match?: RegExp) =>
    stack.fake.waitFor(
      (m) => m.chatId === chatId && m.messageId > messageId && (!match || match.test(m.plainText)),
    );
  return {
    chatId,
    /** Types a message and waits for the bot's next reply (the first that matches, when given). */
    async says(text: string | undefined, match?: RegExp): Promise<ReceivedTelegramMessage> {
      const update = stack.fake.userSays(chatId, text);
      return repliesAfter((update.message as { message_id: number }).message_id, match);
    },
    /** Taps a button under one of the bot's messages and waits for the answer to the tap. */
    async taps(messageId: number, data: string) {
      const update = stack.fake.userTaps(chatId, messageId, data);
      const id = (update.callback_query as { id: string }).id;
      return stack.fake.waitForAnswer((a) => a.callbackQueryId === id);
    },
    repliesAfter,
  };
}

/** A Herald user made through the API, and a link token for them. */
export async function userWithLink(stack: BotStack, fields: Record<string, unknown> = {}) {
  const created = await stack.herald.api('/v1/users', { json: { externalId: uniqueId('tg'), ...fields } });
  assert.equal(created.status, 201, await created.clone().text());
  const user = (await created.json()) as { id: string; externalId: string };
  const res = await stack.herald.api(`/v1/users/${user.id}/telegram-link`, { method: 'POST' });
  assert.equal(res.status, 201, await res.clone().text());
  const link = (await res.json()) as { url: string; token: string; expiresAt: string; userId: string };
  return { user, link };
}

/** A person whose chat is linked to a new user. */
export async function linkedPerson(stack: BotStack) {
  const { user, link } = await userWithLink(stack);
  const someone = person(stack);
  await someone.says(`/start ${link.token}`, /^Linked/);
  return { ...someone, user };
}

/** What the bot may change for a user and a chat, to show that bad input changed none of it. */
export async function snapshot(stack: BotStack, chatId: string, userId?: string) {
  const { db } = stack.herald;
  const [user, rules, quiet, notifications, chat, linkedTo] = await Promise.all([
    userId ? db.user.findUnique({ where: { id: userId }, include: { contacts: true } }) : null,
    userId
      ? db.preference.findMany({ where: { userId }, orderBy: [{ category: 'asc' }, { channel: 'asc' }] })
      : [],
    userId ? db.quietHours.findUnique({ where: { userId } }) : null,
    db.notification.count(),
    db.telegramChat.findUnique({ where: { chatId } }),
    db.contact.count({ where: { channel: 'telegram', address: chatId } }),
  ]);
  return { user, rules, quiet, notifications, chat, linkedTo };
}

/** The six-digit code in the last verification message to this address (email or SMS). */
export async function codeSentTo(stack: BotStack, address: string): Promise<string> {
  // The latest one: a repeated /email sends a new code, and only that one works.
  let text: string;
  if (address.startsWith('+')) {
    await stack.sms!.waitFor((m) => m.to === address);
    text = stack.sms!.messages.findLast((m) => m.to === address)!.text;
  } else {
    const sent = (m: { envelopeTo: string[] }) => m.envelopeTo.includes(address);
    await stack.smtp!.waitFor(sent);
    text = stack.smtp!.messages.findLast(sent)!.parsed.text ?? '';
  }
  return /code is (\d{6})/.exec(text)![1]!;
}

/** The user's stored address on a channel, or null. */
export const contactOf = (db: Db, userId: string, channel: 'email' | 'sms' | 'telegram') =>
  db.contact.findUnique({ where: { userId_channel: { userId, channel } } });
