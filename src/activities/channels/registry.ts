import type { Config } from '../../platform/config.js';
import type { ChannelName } from '../../workflows/definitions.js';
import type { ChannelContext, ChannelDefinition, ChannelProvider } from './channel.js';
import { emailChannel } from './email/index.js';
import { pushChannel } from './push/index.js';
import { smsChannel } from './sms/index.js';
import { telegramChannel } from './telegram/index.js';

export type {
  ChannelDefinition,
  ChannelProvider,
  Recipient,
  OutgoingMessage,
  FailureClass,
  ChannelContext,
} from './channel.js';

/** Every channel Herald knows. The workflow reaches each through `deliver<Channel>` on its own queue. */
export const CHANNEL_DEFINITIONS: Partial<Record<ChannelName, ChannelDefinition>> = {
  email: emailChannel,
  sms: smsChannel,
  push: pushChannel,
  telegram: telegramChannel,
};

export type ChannelRegistry = Partial<Record<ChannelName, ChannelProvider>>;

/** Which channels have a provider configured, without opening any connection. */
export function configuredChannels(config: Config): ChannelName[] {
  return Object.values(CHANNEL_DEFINITIONS)
    .filter((definition) => definition.isConfigured(config))
    .map((definition) => definition.channel);
}

/** Live providers for the channels this process delivers on. */
export function createChannels(
  config: Config,
  context: ChannelContext,
  only?: readonly ChannelName[],
): ChannelRegistry {
  const channels: ChannelRegistry = {};
  for (const channel of configuredChannels(config)) {
    if (!only || only.includes(channel))
      channels[channel] = CHANNEL_DEFINITIONS[channel]!.create(config, context);
  }
  return channels;
}

export async function closeChannels(channels: ChannelRegistry): Promise<void> {
  await Promise.all(Object.values(channels).map((channel) => channel.close()));
}
