// What Herald posts to Slack's chat.postMessage for a notification: a plain `text` fallback (what
// notifications and screen readers show) and a section block, both mrkdwn with the user's text escaped.
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import { notificationLink, type OutgoingMessage } from '../channel.js';

/** Slack's limit on a section block's text. */
export const SECTION_LIMIT = 3000;
/** Slack cuts `text` at 40,000 characters and advises at most 4,000. */
export const FALLBACK_LIMIT = 4000;
const ELLIPSIS = '…';

/**
 * mrkdwn reads only these three as markup (`<@U1>` mentions, `<!channel>`, `<url|label>` links):
 * escaped, user text can neither ping anyone nor disguise a link.
 */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

/** Escaped text cut to `max` characters, never inside an entity or a surrogate pair. */
export function clipEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  const amp = text.lastIndexOf('&', end - 1);
  if (amp >= 0 && amp > end - 5 && !text.slice(amp, end).includes(';')) end = amp;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

export interface SlackMessage {
  channel: string;
  text: string;
  blocks: object[];
  unfurl_links: false;
  unfurl_media: false;
}

export function renderSlack(channel: string, message: OutgoingMessage): SlackMessage {
  const title = escapeMrkdwn(message.title.trim());
  const body = escapeMrkdwn(message.body.trim());
  const heading = title && `*${clipEscaped(title, 300)}*`;
  const section = [heading, body].filter(Boolean).join('\n');
  const link = notificationLink(message);
  const ack = message.acknowledge?.url;
  const buttons = [
    ...(link ? [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: link }] : []),
    ...(ack
      ? [
          {
            type: 'button',
            style: 'primary',
            text: { type: 'plain_text', text: ACKNOWLEDGE_LABEL },
            url: ack,
          },
        ]
      : []),
  ];
  return {
    channel,
    text: clipEscaped([title, body].filter(Boolean).join('\n'), FALLBACK_LIMIT),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clipEscaped(section, SECTION_LIMIT) } },
      ...(buttons.length > 0 ? [{ type: 'actions', elements: buttons }] : []),
    ],
    // A link in the body would otherwise grow a preview nobody asked for.
    unfurl_links: false,
    unfurl_media: false,
  };
}
