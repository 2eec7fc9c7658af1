// The Microsoft Teams channel's configuration: a switch, since a webhook URL carries its own credential.
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { flag } from '../../../platform/config/parsers.js';

export interface TeamsConfig {
  teams: { enabled: boolean };
}

export const teamsConfig = defineConfigSlice({
  title: 'Microsoft Teams',
  variables: {
    TEAMS_ENABLED: variable({
      description:
        "`true` turns the Microsoft Teams channel on: Herald posts an Adaptive Card to each user's Teams Workflows webhook URL (`contacts.teams`), never to a private address ([Outbound requests](#outbound-requests)).",
      parse: flag,
      default: 'false',
    }),
  },
  toConfig: (v): TeamsConfig => ({ teams: { enabled: v.TEAMS_ENABLED } }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends TeamsConfig {}
}
