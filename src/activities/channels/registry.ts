// Every channel Herald knows, one line each. The workflow reaches each through `deliver<Channel>` on the
// queue named after it; the API's schemas, the user views, the preference page, the bot's /settings and
// the workers' queues are derived from this list. Adding a channel: its folder, a line here, its value in
// the `Channel` enum of prisma/schema.prisma with a migration, then `npm run prisma:generate` and
// `npm run generate` (the compose file's workers, docs/configuration.md); docs/channels.md says more.
import type { Config } from '../../platform/config.js';
import type { ChannelContext, ChannelDefinition, ChannelProvider, ContactDefinition } from './channel.js';
import { discordChannel } from './discord/index.js';
import { emailChannel } from './email/index.js';
import { inAppChannel } from './in-app/index.js';
import { pushChannel } from './push/index.js';
import { slackChannel } from './slack/index.js';
import { smsChannel } from './sms/index.js';
import { teamsChannel } from './teams/index.js';
import { telegramChannel } from './telegram/index.js';

export type {
  AcknowledgeAction,
  ChannelDefinition,
  ChannelProvider,
  ContactDefinition,
  Recipient,
  OutgoingMessage,
  FailureClass,
  ChannelContext,
  SendAttempt,
} from './channel.js';

export const CHANNEL_DEFINITIONS = {
  email: emailChannel,
  sms: smsChannel,
  push: pushChannel,
  telegram: telegramChannel,
  slack: slackChannel,
  discord: discordChannel,
  teams: teamsChannel,
  in_app: inAppChannel,
} satisfies Record<string, ChannelDefinition>;

export type ChannelName = keyof typeof CHANNEL_DEFINITIONS;
export const CHANNELS = Object.keys(CHANNEL_DEFINITIONS) as [ChannelName, ...ChannelName[]];

/** Each channel's own variables, in the order of the reference (docs/configuration.md). */
export const CHANNEL_CONFIG_SLICES = CHANNELS.map((channel) => CHANNEL_DEFINITIONS[channel].config);

/** The channels whose address is one string per user, with what that address is. */
export const CONTACT_CHANNELS = CHANNELS.flatMap((channel) => {
  const contact: ContactDefinition | undefined = CHANNEL_DEFINITIONS[channel].contact;
  return contact ? [{ channel, contact }] : [];
});

export type ChannelRegistry = Partial<Record<ChannelName, ChannelProvider>>;

/**
 * The channels the deployment delivers on: DELIVERY_CHANNELS where it is set (a process without the
 * providers' credentials), else those whose provider this process has settings for. Opens nothing.
 */
export function configuredChannels(config: Config): ChannelName[] {
  return (
    config.delivery.channels ??
    CHANNELS.filter((channel) => CHANNEL_DEFINITIONS[channel].isConfigured(config))
  );
}

/** Live providers for the channels this process delivers on. */
export function createChannels(
  config: Config,
  context: ChannelContext,
  only?: readonly ChannelName[],
): ChannelRegistry {
  const channels: ChannelRegistry = {};
  // A provider needs its own settings here, whatever DELIVERY_CHANNELS says.
  for (const channel of CHANNELS.filter((c) => CHANNEL_DEFINITIONS[c].isConfigured(config))) {
    if (!only || only.includes(channel))
      channels[channel] = CHANNEL_DEFINITIONS[channel].create(config, context);
  }
  return channels;
}

export async function closeChannels(channels: ChannelRegistry): Promise<void> {
  await Promise.all(Object.values(channels).map((channel) => channel.close()));
}
