// What every SMS provider sends: the recipient's number and the rendered text, checked before any request.
import { PermanentChannelError, type OutgoingMessage, type Recipient } from '../channel.js';
import { E164 } from './address.js';
import { renderSms } from './text.js';

/** The destination and text of one SMS; a missing or invalid number, or no text, fails for good. */
export function outgoingSms(
  recipient: Recipient,
  message: OutgoingMessage,
  maxSegments: number,
): { to: string; text: string } {
  const to = recipient.contacts.sms;
  if (!to) throw new PermanentChannelError('the user has no phone number');
  if (!E164.test(to)) throw new PermanentChannelError('invalid phone number');
  const text = renderSms(message, maxSegments);
  if (!text) throw new PermanentChannelError('the notification has neither title nor body');
  return { to, text };
}
