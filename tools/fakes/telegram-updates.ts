// The incoming half of the Telegram fake, for testing a bot: people's messages and button taps as
// updates, getUpdates long polling with offsets, edits of the bot's messages, callback answers, and the
// webhook registration (getUpdates is refused while a webhook is set, as Telegram does).
import { createWaiters } from './waiters.js';

export class BotApiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly retryAfter?: number,
  ) {
    super(description);
  }
}

/** A message the bot sent, as it stands now (after any edits). */
export interface BotMessage {
  messageId: number;
  chatId: string;
  text: string;
  replyMarkup?: { inline_keyboard?: { text: string; callback_data?: string }[][] };
}

export interface MessageEdit {
  method: 'editMessageText' | 'editMessageReplyMarkup';
  chatId: string;
  messageId: number;
  text?: string;
  replyMarkup?: BotMessage['replyMarkup'];
}

export interface CallbackAnswer {
  callbackQueryId: string;
  text?: string;
  showAlert: boolean;
}

export interface TelegramUpdate {
  update_id: number;
  [kind: string]: unknown;
}

/** What a test does as the people talking to the bot, and what it can check afterwards. */
export interface TelegramPeople {
  /** Updates not yet confirmed by a getUpdates offset. */
  readonly pendingUpdates: TelegramUpdate[];
  edits: MessageEdit[];
  callbackAnswers: CallbackAnswer[];
  /** What setWebhook registered; undefined after deleteWebhook. */
  readonly webhook: { url: string; secretToken?: string; allowedUpdates?: unknown } | undefined;
  /** What setMyCommands registered. */
  readonly commands: unknown;
  /** A person types `text` in their private chat; undefined text sends a message without text (a sticker). */
  userSays(chatId: string, text: string | undefined, extra?: Record<string, unknown>): TelegramUpdate;
  /** A person taps the inline button with `data` under the bot's message. */
  userTaps(chatId: string, messageId: number, data: string): TelegramUpdate;
  /** Any update as Telegram would send it; update_id is assigned here. */
  addUpdate(update: Record<string, unknown>): TelegramUpdate;
  botMessage(messageId: number): BotMessage | undefined;
  waitForEdit(predicate: (edit: MessageEdit) => boolean, timeoutMs?: number): Promise<MessageEdit>;
  waitForAnswer(predicate: (answer: CallbackAnswer) => boolean, timeoutMs?: number): Promise<CallbackAnswer>;
  /** Resolves when every update added so far was confirmed (the bot polled past it). */
  drained(timeoutMs?: number): Promise<void>;
}

export function createTelegramPeople(newMessageId: () => number) {
  let nextUpdateId = 1;
  let nextCallbackId = 1;
  let confirmedBelow = 0;
  let webhook: TelegramPeople['webhook'];
  let stopped = false;
  let commands: unknown;
  const updates: TelegramUpdate[] = [];
  const botMessages = new Map<number, BotMessage>();
  const edits: MessageEdit[] = [];
  const callbackAnswers: CallbackAnswer[] = [];
  const editArrivals = createWaiters(edits, 'edit of a bot message');
  const answerArrivals = createWaiters(callbackAnswers, 'callback query answer');
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const w of wakers) w();
  };
  const person = (chatId: string) => ({ id: Number(chatId), is_bot: false, first_name: 'Ada' });
  const chat = (chatId: string) => ({ id: Number(chatId), type: 'private', first_name: 'Ada' });
  const now = () => Math.floor(Date.now() / 1000);

  const messageOf = (params: Record<string, unknown>): BotMessage => {
    const id = Number(params.message_id);
    const message = botMessages.get(id);
    if (!message || message.chatId !== String(params.chat_id))
      throw new BotApiError(400, 'Bad Request: message to edit not found');
    return message;
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    getupdates: async (params) => {
      if (webhook)
        throw new BotApiError(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
      const offset = Number(params.offset ?? 0);
      if (offset > confirmedBelow) {
        confirmedBelow = offset;
        while (updates.length > 0 && updates[0]!.update_id < offset) updates.shift();
        wake();
      }
      const limit = Math.min(100, Number(params.limit ?? 100));
      const deadline = Date.now() + Math.min(50, Number(params.timeout ?? 0)) * 1000;
      while (updates.length === 0 && Date.now() < deadline && !stopped) {
        await new Promise<void>((resolve) => {
          const done = () => (clearTimeout(timer), wakers.delete(done), resolve());
          const timer = setTimeout(done, deadline - Date.now());
          wakers.add(done);
        });
      }
      return updates.slice(0, limit);
    },
    setwebhook: (params) => {
      const url = String(params.url ?? '');
      if (!/^https:\/\//.test(url))
        throw new BotApiError(400, 'Bad Request: bad webhook: HTTPS url must be provided');
      webhook = {
        url,
        secretToken: params.secret_token === undefined ? undefined : String(params.secret_token),
        allowedUpdates: params.allowed_updates,
      };
      return true;
    },
    deletewebhook: () => {
      webhook = undefined;
      return true;
    },
    getwebhookinfo: () => ({ url: webhook?.url ?? '', pending_update_count: updates.length }),
    setmycommands: (params) => {
      commands = params.commands;
      return true;
    },
    editmessagetext: (params) => {
      const message = messageOf(params);
      const text = String(params.text ?? '');
      if (!text.trim()) throw new BotApiError(400, 'Bad Request: message text is empty');
      if (text === message.text && same(params.reply_markup, message.replyMarkup))
        throw new BotApiError(400, 'Bad Request: message is not modified');
      message.text = text;
      message.replyMarkup = params.reply_markup as BotMessage['replyMarkup'];
      edits.push({
        method: 'editMessageText',
        chatId: message.chatId,
        messageId: message.messageId,
        text,
        replyMarkup: message.replyMarkup,
      });
      editArrivals.notify();
      return { message_id: message.messageId, chat: chat(message.chatId), date: now(), text };
    },
    editmessagereplymarkup: (params) => {
      const message = messageOf(params);
      if (same(params.reply_markup, message.replyMarkup))
        throw new BotApiError(400, 'Bad Request: message is not modified');
      message.replyMarkup = params.reply_markup as BotMessage['replyMarkup'];
      edits.push({
        method: 'editMessageReplyMarkup',
        chatId: message.chatId,
        messageId: message.messageId,
        replyMarkup: message.replyMarkup,
      });
      editArrivals.notify();
      return { message_id: message.messageId, chat: chat(message.chatId), date: now(), text: message.text };
    },
    answercallbackquery: (params) => {
      const id = String(params.callback_query_id ?? '');
      if (!id || Number(id) >= nextCallbackId)
        throw new BotApiError(
          400,
          'Bad Request: query is too old and response timeout expired or query ID is invalid',
        );
      callbackAnswers.push({
        callbackQueryId: id,
        text: params.text === undefined ? undefined : String(params.text),
        showAlert: params.show_alert === true || params.show_alert === 'true',
      });
      answerArrivals.notify();
      return true;
    },
  };

  const api: TelegramPeople = {
    get pendingUpdates() {
      return updates;
    },
    edits,
    callbackAnswers,
    get webhook() {
      return webhook;
    },
    get commands() {
      return commands;
    },
    addUpdate(update) {
      const full = { update_id: nextUpdateId++, ...update } as TelegramUpdate;
      updates.push(full);
      wake();
      return full;
    },
    userSays(chatId, text, extra = {}) {
      const message = {
        message_id: newMessageId(),
        from: person(chatId),
        chat: chat(chatId),
        date: now(),
        ...(text === undefined ? {} : { text }),
        ...extra,
      };
      return api.addUpdate({ message });
    },
    userTaps(chatId, messageId, data) {
      const shown = botMessages.get(messageId);
      const message = shown
        ? {
            message_id: messageId,
            from: { id: 1, is_bot: true, first_name: 'Herald' },
            chat: chat(chatId),
            date: now(),
            text: shown.text,
            reply_markup: shown.replyMarkup,
          }
        : { message_id: messageId, chat: chat(chatId), date: 0 };
      const query = { id: String(nextCallbackId++), from: person(chatId), message, chat_instance: '1', data };
      return api.addUpdate({ callback_query: query });
    },
    botMessage: (messageId) => botMessages.get(messageId),
    waitForEdit: editArrivals.waitFor,
    waitForAnswer: answerArrivals.waitFor,
    async drained(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (confirmedBelow < nextUpdateId) {
        if (Date.now() > deadline)
          throw new Error(`updates below ${nextUpdateId} not confirmed within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };

  return {
    methods,
    people: api,
    /** sendMessage calls this so later edits and taps find the message. */
    remember(message: BotMessage) {
      botMessages.set(message.messageId, message);
    },
    stop() {
      stopped = true;
      wake();
    },
  };
}
