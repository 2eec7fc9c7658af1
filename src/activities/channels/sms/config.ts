// The SMS channel's configuration: its provider (an HTTP gateway or Twilio) and how long a message may be.
import { z } from 'zod';
import { defineConfigSlice, variable, type ConfigProblem } from '../../../platform/config/define.js';
import { url } from '../../../platform/config/parsers.js';

/** Whole when SMS_PROVIDER=twilio (the check insists); the API needs only the token, to check callbacks. */
export interface TwilioSettings {
  accountSid?: string;
  authToken?: string;
  /** A sender (number, short code or alphanumeric ID), a Messaging Service, or both. */
  from?: string;
  messagingServiceSid?: string;
  apiUrl: string;
}

export interface SmsConfig {
  sms: {
    provider?: 'http' | 'twilio';
    url?: string;
    token?: string;
    maxSegments: number;
    twilio: TwilioSettings;
  };
}

// An E.164 number, a short code, or an alphanumeric sender ID (up to 11 letters, digits and spaces).
const TWILIO_SENDER = /^(\+[1-9][0-9]{6,14}|[0-9]{3,8}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/;

export const smsConfig = defineConfigSlice({
  title: 'SMS',
  variables: {
    SMS_PROVIDER: variable({
      description:
        'The SMS provider: `http` (a JSON POST to `SMS_HTTP_URL`) or `twilio` (the `TWILIO_*` variables); the SMS channel is off without it.',
      parse: z.enum(['http', 'twilio']),
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
    TWILIO_ACCOUNT_SID: variable({
      description: 'The Twilio account (`AC…`) that sends; required when `SMS_PROVIDER=twilio`.',
      parse: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { message: 'must be AC followed by 32 hex digits' }),
    }),
    TWILIO_AUTH_TOKEN: variable({
      description:
        "The account's auth token: the password of Twilio's API, and the key Twilio signs its status callbacks with. Required when `SMS_PROVIDER=twilio`. The HTTP API takes the callbacks, at `<PUBLIC_URL>/providers/twilio/status`, only when it has the token.",
      parse: z.string().min(1),
      secret: true,
    }),
    TWILIO_FROM: variable({
      description:
        'The sender: an E.164 number, a short code or an alphanumeric sender ID. `SMS_PROVIDER=twilio` needs it or `TWILIO_MESSAGING_SERVICE_SID`.',
      parse: z.string().regex(TWILIO_SENDER, {
        message: 'must be an E.164 number, a short code, or up to 11 letters, digits and spaces',
      }),
    }),
    TWILIO_MESSAGING_SERVICE_SID: variable({
      description:
        'A Messaging Service (`MG…`) that picks the sender from its pool, in place of or with `TWILIO_FROM`.',
      parse: z.string().regex(/^MG[0-9a-fA-F]{32}$/, { message: 'must be MG followed by 32 hex digits' }),
    }),
    TWILIO_API_URL: variable({
      description: "Twilio's REST API base URL (a test fake in tests).",
      parse: url(['http:', 'https:']),
      default: 'https://api.twilio.com',
    }),
  },
  check: (v) => {
    const problems: ConfigProblem[] = [];
    if (v.SMS_PROVIDER === 'http' && !v.SMS_HTTP_URL)
      problems.push({ variable: 'SMS_HTTP_URL', message: 'is required when SMS_PROVIDER=http' });
    if (v.SMS_PROVIDER === 'twilio') {
      for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] as const)
        if (!v[name]) problems.push({ variable: name, message: 'is required when SMS_PROVIDER=twilio' });
      if (!v.TWILIO_FROM && !v.TWILIO_MESSAGING_SERVICE_SID)
        problems.push({
          variable: 'TWILIO_FROM',
          message: 'or TWILIO_MESSAGING_SERVICE_SID is required when SMS_PROVIDER=twilio',
        });
    }
    return problems;
  },
  toConfig: (v): SmsConfig => ({
    sms: {
      provider: v.SMS_PROVIDER,
      url: v.SMS_HTTP_URL,
      token: v.SMS_HTTP_TOKEN,
      maxSegments: v.SMS_MAX_SEGMENTS,
      twilio: {
        accountSid: v.TWILIO_ACCOUNT_SID,
        authToken: v.TWILIO_AUTH_TOKEN,
        from: v.TWILIO_FROM,
        messagingServiceSid: v.TWILIO_MESSAGING_SERVICE_SID,
        apiUrl: v.TWILIO_API_URL.replace(/\/+$/, ''),
      },
    },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends SmsConfig {}
}
