// The Adaptive Card Herald posts to a Teams webhook: the title and the body as TextRuns, which Teams shows
// as they are (a TextRun reads no markdown, unlike a TextBlock), and the notification's link as an action.
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import { notificationLink, type OutgoingMessage } from '../channel.js';

// Teams refuses a message over 28 KB: these keep a card under it, even in three-byte UTF-8.
const TITLE_LIMIT = 500;
const BODY_LIMIT = 6000;

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + '…';
}

const run = (text: string, style: object = {}) => ({
  type: 'RichTextBlock',
  inlines: [{ type: 'TextRun', text, ...style }],
});

/** A Teams message with one Adaptive Card attachment, as Workflows' "post card" template expects. */
export function renderTeamsCard(message: OutgoingMessage) {
  const title = clip(message.title.trim(), TITLE_LIMIT);
  const body = clip(message.body.trim(), BODY_LIMIT);
  const link = notificationLink(message);
  const ack = message.acknowledge?.url;
  const actions = [
    ...(link ? [{ type: 'Action.OpenUrl', title: 'Open', url: link }] : []),
    ...(ack ? [{ type: 'Action.OpenUrl', title: ACKNOWLEDGE_LABEL, url: ack, style: 'positive' }] : []),
  ];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            ...(title ? [run(title, { weight: 'Bolder', size: 'Medium' })] : []),
            ...(body ? [run(body)] : []),
          ],
          ...(actions.length > 0 && { actions }),
        },
      },
    ],
  };
}
