// The Telegram channel's configuration, shared by its delivery activity and the bot.
import { z } from 'zod';
import { defineConfigSlice, variable, type ConfigProblem } from '../../../platform/config/define.js';
import { countOf, duration, url } from '../../../platform/config/parsers.js';

export interface TelegramConfig {
  telegram: {
    token?: string;
    apiUrl: string;
    /** Webhook mode when set: Telegram POSTs updates to the API's /telegram/webhook; else the bot long-polls. */
    webhookUrl?: string;
    /** Telegram echoes it in X-Telegram-Bot-Api-Secret-Token; the webhook route refuses any other. */
    webhookSecret?: string;
    /** For t.me deep links; asked of Telegram (getMe) when unset. */
    botUsername?: string;
    /** How long a link token from POST /v1/users/:id/telegram-link stays usable. */
    linkTtlMs: number;
    /** Messages (and button taps) a chat may send the bot a minute; more get a polite refusal. */
    rateLimitPerMinute: number;
  };
}

export const telegramConfig = defineConfigSlice({
  title: 'Telegram',
  variables: {
    TELEGRAM_BOT_TOKEN: variable({
      description: "The bot's token from BotFather; the Telegram channel and the bot are off without it.",
      parse: z.string().min(1),
      secret: true,
    }),
    TELEGRAM_API_URL: variable({
      description: 'The Bot API base URL: Telegram, a self-hosted Bot API server or a test fake.',
      parse: url(['http:', 'https:']),
      default: 'https://api.telegram.org',
    }),
    TELEGRAM_WEBHOOK_URL: variable({
      description:
        "The HTTPS URL Telegram POSTs updates to: the API's `/telegram/webhook` behind your proxy. Without it the bot long-polls.",
      parse: url(['https:']),
    }),
    TELEGRAM_WEBHOOK_SECRET: variable({
      description:
        '16-256 characters of `A-Za-z0-9_-` that Telegram sends back as `X-Telegram-Bot-Api-Secret-Token`; required with `TELEGRAM_WEBHOOK_URL`.',
      parse: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, {
        message:
          'must be 16 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram sends it back as a header)',
      }),
      secret: true,
    }),
    TELEGRAM_BOT_USERNAME: variable({
      description: "The bot's username, for `t.me` links.",
      parse: z
        .string()
        .regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, { message: 'must be a bot username such as herald_bot' })
        .transform((name) => name.replace(/^@/, '')),
      whenUnset: 'asked of Telegram (`getMe`)',
    }),
    TELEGRAM_LINK_TTL: variable({
      description: 'How long a link from `POST /v1/users/:id/telegram-link` stays usable (`30m`, `1h`, ...).',
      parse: duration,
      default: '15m',
    }),
    TELEGRAM_BOT_RATE_LIMIT: variable({
      description: 'Messages and button taps one chat may send the bot a minute; more get one "please wait".',
      parse: countOf('messages a minute'),
      default: '20',
    }),
  },
  check: (v) => {
    const problems: ConfigProblem[] = [];
    if (v.TELEGRAM_WEBHOOK_URL && !v.TELEGRAM_WEBHOOK_SECRET) {
      problems.push({
        variable: 'TELEGRAM_WEBHOOK_SECRET',
        message: 'is required when TELEGRAM_WEBHOOK_URL is set',
      });
    }
    if (v.TELEGRAM_WEBHOOK_URL && !v.TELEGRAM_BOT_TOKEN) {
      problems.push({
        variable: 'TELEGRAM_BOT_TOKEN',
        message: 'is required when TELEGRAM_WEBHOOK_URL is set',
      });
    }
    return problems;
  },
  toConfig: (v): TelegramConfig => ({
    telegram: {
      token: v.TELEGRAM_BOT_TOKEN,
      apiUrl: v.TELEGRAM_API_URL,
      webhookUrl: v.TELEGRAM_WEBHOOK_URL,
      webhookSecret: v.TELEGRAM_WEBHOOK_SECRET,
      botUsername: v.TELEGRAM_BOT_USERNAME,
      linkTtlMs: v.TELEGRAM_LINK_TTL,
      rateLimitPerMinute: v.TELEGRAM_BOT_RATE_LIMIT,
    },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends TelegramConfig {}
}
