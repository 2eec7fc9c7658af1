import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/**
 * A Slack member id (U…, W… on Enterprise Grid: Herald's app writes to them in its DM with them) or a
 * conversation id (C… public, G… private, D… a DM), as Slack shows it under "Copy member ID".
 */
export const SLACK_ID = /^[CDGUW][A-Z0-9]{6,20}$/;

export const slackConversation: ContactDefinition = {
  schema: z.string().regex(SLACK_ID, {
    message: 'must be a Slack member or channel id such as U123ABC4 or C123ABC4 (upper case)',
  }),
  hint: (id) => `${id.slice(0, 3)}•••`,
  missing: 'no Slack id on file',
};
