// The Slack channel's configuration: the app's bot token and where Slack's Web API is.
import { z } from 'zod';
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { url } from '../../../platform/config/parsers.js';

export interface SlackConfig {
  slack: { botToken?: string; apiUrl: string };
}

export const slackConfig = defineConfigSlice({
  title: 'Slack',
  variables: {
    SLACK_BOT_TOKEN: variable({
      description:
        "The Slack app's bot token (`xoxb-…`, with the `chat:write` scope); the Slack channel is off without it.",
      parse: z.string().min(1),
      secret: true,
    }),
    SLACK_API_URL: variable({
      description:
        "The base URL of Slack's Web API (`chat.postMessage` is called under it): Slack, or a test fake.",
      parse: url(['http:', 'https:']).transform((base) => base.replace(/\/+$/, '')),
      default: 'https://slack.com/api',
    }),
  },
  toConfig: (v): SlackConfig => ({ slack: { botToken: v.SLACK_BOT_TOKEN, apiUrl: v.SLACK_API_URL } }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends SlackConfig {}
}
