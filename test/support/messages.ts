import type { OutgoingMessage } from '../../src/activities/channels/channel.js';

/** A rendered message as a channel receives it. */
export const message = (title: string, body: string): OutgoingMessage => ({
  notificationId: 'n-1',
  category: 'billing',
  title,
  body,
  data: {},
});
