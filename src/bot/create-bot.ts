// The bot's one dispatch path, for long polling and the webhook inbox alike: check the update's shape,
// limit the chat's rate, find the linked user, then route to a command, a /settings tap or a /send step.
// A notification's Acknowledge button is routed first: it needs no linked user, only its own chat.
import { Bot, type Context } from 'node-telegram-bot-api';
import { z } from 'zod';
import { isAcknowledgeButton } from '../domain/acknowledgement-links.js';
import { findUserByContact } from '../domain/users.js';
import { handleAcknowledgeTap } from './acknowledge.js';
import type { Logger } from '../platform/logger.js';
import { COMMANDS } from './commands.js';
import { cleanText, parseCommand, quote } from './input.js';
import { createChatRateLimit, type ChatRateLimit } from './rate-limit.js';
import { continueSend, dropDraft } from './send.js';
import { handleSettingsTap } from './settings.js';
import { NOT_LINKED, type RunningBotDeps, type Turn } from './turn.js';

const chatSchema = z.looseObject({ id: z.number().int(), type: z.string() });
const messageSchema = z.looseObject({
  message_id: z.number().int(),
  chat: chatSchema,
  text: z.string().optional(),
});
/** The parts of an update the bot reads; anything else in it is ignored, never trusted. */
const updateSchema = z.looseObject({
  update_id: z.number().int().min(0),
  message: messageSchema.optional(),
  callback_query: z
    .looseObject({
      id: z.string().max(256),
      data: z.string().max(256).optional(),
      message: z.looseObject({ message_id: z.number().int(), chat: chatSchema }).optional(),
    })
    .optional(),
});

export const ALLOWED_UPDATES = ['message', 'callback_query'];

/** An error for the log: its type, code and stack, never its message (it may quote what was typed). */
export const errorSummary = (error: unknown) =>
  error instanceof Error
    ? {
        type: error.name,
        code: (error as { code?: unknown }).code,
        stack: error.stack?.split('\n').slice(1, 6).join('\n'),
      }
    : { type: typeof error };

export function createHeraldBot(deps: RunningBotDeps): Bot {
  const { config, logger } = deps;
  const bot = new Bot(config.telegram.token!, {
    apiRoot: config.telegram.apiUrl,
    timeoutMs: 15_000,
    maxRetries: 2,
  });
  const rateLimit = createChatRateLimit(config.telegram.rateLimitPerMinute);

  // The last resort: log the failure, tell the person, and keep serving every other chat.
  bot.catch(async (error, ctx) => {
    logger.error({ err: errorSummary(error), updateId: ctx.update.update_id }, 'update handling failed');
    const sorry = 'Something went wrong on my side. Please try again in a minute.';
    try {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: sorry, show_alert: true });
      else if (ctx.chatId !== undefined) await bot.api.sendMessage({ chat_id: ctx.chatId, text: sorry });
    } catch {
      // Telegram itself is unreachable, or the chat is gone: nothing more to do for this update.
    }
  });
  bot.use((ctx) => handleUpdate(deps, rateLimit, ctx));
  return bot;
}

async function handleUpdate(deps: RunningBotDeps, rateLimit: ChatRateLimit, ctx: Context): Promise<void> {
  const { db, logger } = deps;
  const shape = updateSchema.safeParse(ctx.update);
  if (!shape.success) return logger.warn({ updateId: ctx.update?.update_id }, 'malformed update ignored');
  const { message, callback_query: query } = shape.data;
  const chat = message?.chat ?? query?.message?.chat;
  if (!chat) {
    // A tap on a button of a message too old to carry its chat: answer it so the spinner stops.
    if (query) await ctx.answerCallbackQuery({ text: 'Send /settings again.' });
    return;
  }
  const chatId = String(chat.id);
  const turn: Turn = {
    deps,
    api: ctx.api,
    chatId,
    user: null,
    updateId: shape.data.update_id,
    messageId: message?.message_id,
    async reply(text, extra) {
      await ctx.api.sendMessage({ chat_id: chatId, text, ...extra });
    },
  };

  // A notification's Acknowledge button works wherever the notification went, a group chat included.
  if (query && isAcknowledgeButton(query.data)) {
    const rate = rateLimit.take(chatId);
    if (!rate.allowed)
      return void (await ctx.answerCallbackQuery({ text: `Too many taps: wait ${rate.retryAfterS} s.` }));
    return handleAcknowledgeTap(turn, ctx.callbackQuery!);
  }
  if (chat.type !== 'private') {
    if (query) await ctx.answerCallbackQuery({ text: 'I work in private chats only.' });
    else if (message?.text?.startsWith('/'))
      await turn.reply('I work in private chats only: message me directly.');
    return;
  }
  const rate = rateLimit.take(chatId);
  if (!rate.allowed) {
    const wait = `Too many messages: please wait ${rate.retryAfterS} s.`;
    if (query) await ctx.answerCallbackQuery({ text: wait });
    else if (rate.warn) await turn.reply(wait);
    logger.warn({ chatId }, 'chat rate limited');
    return;
  }
  turn.user = await findUserByContact(db, 'telegram', chatId);

  if (query) return handleSettingsTap(turn, ctx.callbackQuery!);
  if (typeof message?.text !== 'string')
    return turn.reply('I understand text only. /help lists what I can do.');
  await handleText(turn, logger, cleanText(message.text));
}

async function handleText(turn: Turn, logger: Logger, text: string): Promise<void> {
  if (!text) return turn.reply('I could not read anything in that message. /help lists what I can do.');
  const command = parseCommand(text);
  if (!command) {
    if (await continueSend(turn, text)) return;
    return turn.reply('Send /help to see what I can do, or /send to send a notification.');
  }
  const spec = Object.hasOwn(COMMANDS, command.name) ? COMMANDS[command.name] : undefined;
  if (!spec) {
    const typed = quote(text.split(/\s/)[0]!, 40);
    return turn.reply(`I do not know the command ${typed}. /help lists what I can do.`);
  }
  logger.info({ chatId: turn.chatId, command: command.name }, 'command');
  // Another command abandons a /send in progress; /help and /cancel speak about it instead.
  if (!['help', 'cancel', 'send'].includes(command.name)) await dropDraft(turn);
  if (spec.needsLink && !turn.user) return turn.reply(NOT_LINKED);
  await spec.run(turn, command.args);
}
