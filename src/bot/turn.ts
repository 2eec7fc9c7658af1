import type { Client } from '@temporalio/client';
import type { Api, SendMessageParams } from 'node-telegram-bot-api';
import type { UserRecord } from '../domain/users.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';

export interface BotDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  config: Config;
}

/** One message or button tap from one chat, with what the handlers need to answer it. */
export interface Turn {
  deps: BotDeps;
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
