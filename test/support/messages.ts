import assert from 'node:assert/strict';
import type { ChannelProvider, OutgoingMessage, Recipient } from '../../src/activities/channels/channel.js';
import type { ChannelName } from '../../src/activities/channels/registry.js';

/** A rendered message as a channel receives it. */
export const message = (title: string, body: string): OutgoingMessage => ({
  notificationId: 'n-1',
  category: 'billing',
  title,
  body,
  data: {},
});

/** A recipient with one address on one channel (none when `address` is null). */
export const recipientOn = (channel: ChannelName, address: string | null): Recipient => ({
  id: 'u-1',
  locale: 'en',
  linkVersion: 0,
  contacts: address === null ? {} : { [channel]: address },
  pushSubscriptions: [],
});

/** Sends expecting a failure, and returns how the channel classifies it. */
export async function failureOf(channel: ChannelProvider, to: Recipient, sent = message('Title', 'Body')) {
  const error = await channel.send(to, sent).then(
    (result) => assert.fail(`expected the send to fail, got ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  return channel.classify(error);
}
