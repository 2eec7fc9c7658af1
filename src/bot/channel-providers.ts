// The channel providers the bot sends verification codes through: one per channel for the life of the
// running bot, so codes share a provider's connections (an SMTP pool, keep-alive sockets) rather than
// opening and closing one for each code.
import {
  CHANNEL_DEFINITIONS,
  type ChannelContext,
  type ChannelName,
  type ChannelProvider,
} from '../activities/channels/registry.js';
import type { Config } from '../platform/config.js';

export interface BotChannelProviders {
  /** The channel's provider, made on first use; the channel must be configured. */
  get(channel: ChannelName): ChannelProvider;
  /** Closes every provider made; after the bot's last turn, so no send is cut off. */
  close(): Promise<void>;
}

export function createBotChannelProviders(config: Config, context: ChannelContext): BotChannelProviders {
  const made = new Map<ChannelName, ChannelProvider>();
  return {
    get(channel) {
      let provider = made.get(channel);
      if (!provider) {
        provider = CHANNEL_DEFINITIONS[channel].create(config, context);
        made.set(channel, provider);
      }
      return provider;
    },
    async close() {
      const providers = [...made.values()];
      made.clear();
      await Promise.all(
        providers.map((provider) =>
          provider
            .close()
            .catch((error: unknown) =>
              context.logger.warn(
                { channel: provider.channel, error: error instanceof Error ? error.name : typeof error },
                'closing a verification channel failed',
              ),
            ),
        ),
      );
    },
  };
}
