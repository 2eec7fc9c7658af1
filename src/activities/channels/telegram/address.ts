import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/** A Telegram chat id (negative for groups); set by linking a chat through the bot, or by the API. */
export const telegramChat: ContactDefinition = {
  schema: z.string().regex(/^-?[0-9]{1,20}$/, { message: 'must be a Telegram chat id (digits)' }),
  userField: 'telegramChatId',
  hint: () => 'linked',
  missing: 'no Telegram chat linked',
};
