// What Herald posts to a Discord webhook: the title as `content` (what Discord's own notifications show)
// and an embed with the title, the body and the notification's link. User text is escaped for Discord's
// markdown, and `allowed_mentions` is empty, so no text can ping @everyone, a role or a member.
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import { notificationLink, type OutgoingMessage } from '../channel.js';

// Discord's limits, counted after escaping.
const CONTENT_LIMIT = 2000;
const EMBED_TITLE_LIMIT = 256;
const EMBED_DESCRIPTION_LIMIT = 4096;
const ELLIPSIS = '…';

/**
 * A backslash before markdown's characters keeps them literal: no bold, headings, spoilers, quotes,
 * masked links (`[text](url)`) or `<@id>` mentions made from user text.
 */
export const escapeDiscordMarkdown = (text: string): string => text.replace(/[\\*_~`|<>#[\]()-]/g, '\\$&');

/** Escaped text cut to `max` characters, never between a backslash and what it escapes, nor in a pair. */
export function clipEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  let backslashes = 0;
  while (backslashes < end && text[end - 1 - backslashes] === '\\') backslashes++;
  if (backslashes % 2 === 1) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

export interface DiscordMessage {
  content: string;
  embeds: { title?: string; description?: string; url?: string }[];
  allowed_mentions: { parse: [] };
}

export function renderDiscord(message: OutgoingMessage): DiscordMessage {
  const title = escapeDiscordMarkdown(message.title.trim());
  const body = escapeDiscordMarkdown(message.body.trim());
  const url = notificationLink(message);
  // A webhook cannot post buttons: the acknowledge link is a masked link under the body, never cut.
  const ack = message.acknowledge?.url;
  const ackLine = ack ? `[${ACKNOWLEDGE_LABEL}](${ack})` : '';
  const description = [
    body && clipEscaped(body, EMBED_DESCRIPTION_LIMIT - (ackLine ? ackLine.length + 2 : 0)),
    ackLine,
  ]
    .filter(Boolean)
    .join('\n\n');
  const embed = {
    ...(title && { title: clipEscaped(title, EMBED_TITLE_LIMIT) }),
    ...(description && { description }),
    // An embed's link hangs on its title.
    ...(title && url && { url }),
  };
  return {
    content: clipEscaped(title || body, CONTENT_LIMIT),
    embeds: [embed],
    allowed_mentions: { parse: [] },
  };
}
