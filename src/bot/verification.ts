// Sends the one-time code of a contact change (/email, /phone) straight through the channel's provider.
// Not as a Herald notification: that would resolve the user's stored contacts (the new address is not
// one yet), obey their opt-outs and quiet hours, and keep the code in plain text in the notification's
// row. Here the code goes to the new address only, at once, and only its hash is stored.
import { randomUUID } from 'node:crypto';
import { CHANNEL_DEFINITIONS, type ChannelName } from '../activities/channels/registry.js';
import { dropVerification, startVerification } from '../domain/contact-verification.js';
import type { Turn } from './turn.js';

export const VERIFICATION_CATEGORY = 'verification';

export async function sendVerificationCode(
  turn: Turn,
  channel: ChannelName,
  address: string,
): Promise<'sent' | 'unavailable' | 'failed' | 'limited'> {
  const { db, logger, config } = turn.deps;
  const user = turn.user!;
  const definition = CHANNEL_DEFINITIONS[channel];
  if (!definition.isConfigured(config)) return 'unavailable';
  const started = await startVerification(db, user.id, channel, address);
  if ('limited' in started) {
    logger.warn(
      { chatId: turn.chatId, channel, limit: started.limited },
      'verification code refused: daily limit',
    );
    return 'limited';
  }
  const { code } = started;
  const provider = turn.deps.channelProviders.get(channel);
  try {
    await provider.send(
      {
        id: user.id,
        locale: user.locale,
        linkVersion: user.linkVersion,
        contacts: { [channel]: address },
        pushSubscriptions: [],
      },
      {
        notificationId: randomUUID(),
        category: VERIFICATION_CATEGORY,
        title: 'Your Herald verification code',
        body:
          `Your code is ${code}. Send /verify ${code} to the Herald bot within 15 minutes to confirm ` +
          'this address. If you did not ask for it, ignore this message.',
        data: {},
      },
    );
    logger.info({ chatId: turn.chatId, channel }, 'verification code sent');
    return 'sent';
  } catch (error) {
    logger.warn(
      { chatId: turn.chatId, channel, error: error instanceof Error ? error.name : typeof error },
      'verification code not sent',
    );
    await dropVerification(db, user.id, channel);
    return 'failed';
  }
}
