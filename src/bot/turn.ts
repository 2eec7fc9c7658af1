import type { Client } from '@temporalio/client';
import type { Api, SendMessageParams } from 'node-telegram-bot-api';
import type { BotChannelProviders } from './channel-providers.js';
import type { UserRecord } from '../domain/users.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';

/** What the bot's process gives it. */
export interface BotDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  config: Config;
}

/** What every turn of a running bot shares: the process's deps and what the bot keeps while it runs. */
export interface RunningBotDeps extends BotDeps {
  /** Where verification codes go out: one provider per channel, closed when the bot stops. */
  channelProviders: BotChannelProviders;
}

/** One message or button tap from one chat, with what the handlers need to answer it. */
export interface Turn {
  deps: RunningBotDeps;
  api: Api;
  chatId: string;
  /** The Herald user this chat is linked to (their `telegram` contact is this chat), if any. */
  user: UserRecord | null;
  updateId: number;
  /** The message being answered (absent for a button tap). */
  messageId?: number;
  /** Plain text back to the chat: never parsed as markup, so nothing quoted from the user can inject any. */
  reply(text: string, extra?: Omit<SendMessageParams, 'chat_id' | 'text'>): Promise<void>;
}

export const NOT_LINKED =
  'This chat is not linked to a Herald account yet. Open the link your service gave you ' +
  '(it starts the bot with a code), or send /start followed by the code.';
