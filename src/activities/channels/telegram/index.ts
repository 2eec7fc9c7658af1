import {
  Api,
  NetworkError,
  ParseError,
  TelegramApiError,
  TimeoutError,
  type InlineKeyboardMarkup,
} from 'node-telegram-bot-api';
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import {
  createInFlightSends,
  PermanentChannelError,
  systemCode,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
  type OutgoingMessage,
} from '../channel.js';
import { telegramConfig } from './config.js';
import { telegramChat } from './address.js';

export interface TelegramOptions {
  token: string;
  /** Bot API root: https://api.telegram.org, a self-hosted Bot API server or a test fake. */
  apiUrl: string;
  /** How long one sendMessage may take before it counts as a transient failure. */
  timeoutMs?: number;
}

/** Telegram's limit on a message's text, counted after the HTML markup is parsed. */
export const TELEGRAM_TEXT_LIMIT = 4096;
const ELLIPSIS = '…';

// Telegram's HTML mode treats only these three as markup; escaping them keeps user text literal (and
// its length, which counts against Telegram's limit, as short as it can be).
const escapeTelegramMarkup = (text: string): string =>
  text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

/** At most `max` UTF-16 units (Telegram's unit, and never fewer than it counts), never splitting a pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * The bold title, a newline and the body, as Telegram HTML. The limit is applied to the plain text
 * before escaping, so a cut can never fall inside a tag or an `&amp;`.
 */
export function renderTelegram(message: OutgoingMessage): string {
  const title = clip(message.title, TELEGRAM_TEXT_LIMIT);
  const body = clip(message.body, TELEGRAM_TEXT_LIMIT - (title ? title.length + 1 : 0));
  return [title && `<b>${escapeTelegramMarkup(title)}</b>`, body && escapeTelegramMarkup(body)]
    .filter(Boolean)
    .join('\n');
}

/**
 * The acknowledge button, when the notification asks for one: its callback_data names the delivery and is
 * signed (the bot checks it, and that the tap comes from the chat this message went to). Without signed
 * buttons (no PREFERENCES_SECRET) there is no button: the inbox and other channels still acknowledge.
 */
export function acknowledgeKeyboard(message: OutgoingMessage): { reply_markup?: InlineKeyboardMarkup } {
  const data = message.acknowledge?.buttonData;
  if (!data) return {};
  return { reply_markup: { inline_keyboard: [[{ text: ACKNOWLEDGE_LABEL, callback_data: data }]] } };
}

/** Telegram answers `{ ok: false, error_code }`: 429 and 5xx may pass, other 4xx describe the chat or bot. */
export function classifyTelegramError(error: unknown): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof TelegramApiError) {
    const reason = `Telegram ${error.errorCode}: ${error.description}`;
    if (error.errorCode === 429) {
      const retryAfter = error.retryAfter;
      return retryAfter === undefined
        ? { permanent: false, reason }
        : { permanent: false, reason, retryAfterMs: retryAfter * 1000 };
    }
    if (error.errorCode >= 500) return { permanent: false, reason };
    // Every message fails alike until an operator fixes the configuration and retries the deliveries.
    if (error.errorCode === 401 || error.errorCode === 404) {
      return {
        permanent: true,
        reason: `${reason} (the bot token was rejected: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL)`,
      };
    }
    if (error.migrateToChatId !== undefined) {
      return { permanent: true, reason: `${reason} (the group is now chat ${error.migrateToChatId})` };
    }
    // 400 (chat not found, bad request) and 403 (bot blocked, kicked, user deactivated) stay so.
    return { permanent: true, reason };
  }
  if (error instanceof TimeoutError)
    return { permanent: false, reason: `Telegram timed out: ${error.message}` };
  if (error instanceof NetworkError) {
    const code = systemCode(error.cause);
    return { permanent: false, reason: `Telegram unreachable: ${code ? `${code}: ` : ''}${error.message}` };
  }
  if (error instanceof ParseError) {
    return { permanent: false, reason: `Telegram answered something other than JSON: ${error.message}` };
  }
  // A send cancelled by close() (worker shutting down) or anything unforeseen: another attempt may do.
  const reason = error instanceof Error ? error.message : String(error);
  return { permanent: false, reason };
}

export function createTelegramChannel(options: TelegramOptions): ChannelProvider {
  const api = new Api(options.token, {
    apiRoot: options.apiUrl,
    // The library retries 429 (sleeping retry_after), 5xx and network errors itself. Temporal owns
    // retries here: it must see each failure to record the attempt and honour retry_after durably.
    maxRetries: 0,
    // The library's default is 5 minutes per request; a silent socket should fail an attempt sooner.
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  const inFlight = createInFlightSends('Telegram');

  return {
    channel: 'telegram',
    async send(recipient, message, attempt) {
      const chatId = recipient.contacts.telegram;
      if (!chatId) throw new PermanentChannelError('the user has no Telegram chat id');
      if (!message.title && !message.body) {
        throw new PermanentChannelError('the notification has neither title nor body');
      }
      inFlight.throwIfClosed();
      const sent = await api.sendMessage(
        {
          chat_id: chatId,
          text: renderTelegram(message),
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          ...acknowledgeKeyboard(message),
        },
        // The Api's own timeoutMs bounds the request.
        inFlight.requestSignal(attempt),
      );
      return { providerMessageId: `${sent.chat.id}:${sent.message_id}` };
    },
    classify: classifyTelegramError,
    async close() {
      // The Api holds no connection of its own (it uses the global fetch); only in-flight sends.
      inFlight.close();
    },
  };
}

export const telegramChannel: ChannelDefinition = {
  channel: 'telegram',
  label: 'Telegram',
  config: telegramConfig,
  composeProfiles: ['telegram', 'bot'],
  // Telegram allows a bot about 30 messages a second.
  defaultRateLimit: 25,
  // Delivery needs the token and the Bot API; the webhook secret and the rest are the bot's and the API's.
  // PREFERENCES_SECRET signs the acknowledge button's payload.
  workerEnvironment: [
    ...(['TELEGRAM_BOT_TOKEN', 'TELEGRAM_API_URL'] satisfies (keyof typeof telegramConfig.variables)[]),
    'PREFERENCES_SECRET',
  ],
  contact: telegramChat,
  hasAddress: (recipient) => Boolean(recipient.contacts.telegram),
  isConfigured: (config) => Boolean(config.telegram.token),
  create: (config) =>
    createTelegramChannel({ token: config.telegram.token!, apiUrl: config.telegram.apiUrl }),
};
