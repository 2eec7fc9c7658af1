// The SMS channel's configuration: its provider and how long a message may be.
import { z } from 'zod';
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { url } from '../../../platform/config/parsers.js';

export interface SmsConfig {
  sms: { provider?: 'http'; url?: string; token?: string; maxSegments: number };
}

export const smsConfig = defineConfigSlice({
  title: 'SMS',
  variables: {
    SMS_PROVIDER: variable({
      description:
        'The SMS provider: `http` (a JSON POST to `SMS_HTTP_URL`); the SMS channel is off without it.',
      parse: z.enum(['http']),
    }),
    SMS_HTTP_URL: variable({
      description:
        'The endpoint the `http` provider POSTs each message to; required when `SMS_PROVIDER=http`.',
      parse: url(['http:', 'https:']),
    }),
    SMS_HTTP_TOKEN: variable({
      description: 'A bearer token the `http` provider sends in `Authorization`.',
      parse: z.string().min(1),
      secret: true,
    }),
    SMS_MAX_SEGMENTS: variable({
      description: 'The longest SMS, in segments (1 to 10); longer text is cut with an ellipsis.',
      parse: z.coerce.number().int().min(1).max(10),
      default: '3',
    }),
  },
  check: (v) =>
    v.SMS_PROVIDER === 'http' && !v.SMS_HTTP_URL
      ? [{ variable: 'SMS_HTTP_URL', message: 'is required when SMS_PROVIDER=http' }]
      : [],
  toConfig: (v): SmsConfig => ({
    sms: {
      provider: v.SMS_PROVIDER,
      url: v.SMS_HTTP_URL,
      token: v.SMS_HTTP_TOKEN,
      maxSegments: v.SMS_MAX_SEGMENTS,
    },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends SmsConfig {}
}
