// The Discord channel's configuration: a switch, since a webhook URL carries its own credential.
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { flag } from '../../../platform/config/parsers.js';

export interface DiscordConfig {
  discord: { enabled: boolean };
}

export const discordConfig = defineConfigSlice({
  title: 'Discord',
  variables: {
    DISCORD_ENABLED: variable({
      description:
        "`true` turns the Discord channel on: Herald posts to each user's Discord webhook URL (`contacts.discord`), never to a private address ([Outbound requests](#outbound-requests)).",
      parse: flag,
      default: 'false',
    }),
  },
  toConfig: (v): DiscordConfig => ({ discord: { enabled: v.DISCORD_ENABLED } }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends DiscordConfig {}
}
