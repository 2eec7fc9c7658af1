// The in-app inbox's configuration: the secret its end-user tokens are signed with, how long a token
// lasts, which browser origins may call the feed, and how long read and archived messages are kept.
import { z } from 'zod';
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { duration, origins } from '../../../platform/config/parsers.js';

export interface InAppConfig {
  inbox: {
    /** Signs inbox tokens (HMAC-SHA256); the in-app channel and the feed are off without it. */
    secret?: string;
    /** How long a token from POST /v1/users/:id/inbox-token works. */
    tokenTtlMs: number;
    /** Browser origins that may call /inbox/v1 (CORS). */
    corsOrigins: string[];
    /** Read and archived messages older than this are removed. */
    retentionMs: number;
  };
}

export const inAppConfig = defineConfigSlice({
  title: 'In-app inbox',
  summary:
    "The `in_app` channel stores each notification in the user's inbox, which a browser reads with a token from `POST /v1/users/:id/inbox-token` (docs/inbox.md).",
  variables: {
    INBOX_SECRET: variable({
      description:
        'At least 32 characters (`openssl rand -base64 32`) that sign inbox tokens; the `in_app` channel and `/inbox/v1` are off without it. Changing it voids every token. `npm run dev` generates one.',
      parse: z.string().min(32, {
        message: 'must be at least 32 characters, such as the output of openssl rand -base64 32',
      }),
      secret: true,
    }),
    INBOX_TOKEN_TTL: variable({
      description:
        'How long an inbox token works (`1h`, `24h`, ...); the page asks your backend for a new one after.',
      parse: duration,
      default: '24h',
    }),
    INBOX_CORS_ORIGINS: variable({
      description:
        'Comma-separated browser origins (your web app, such as `https://app.example.com`) that may call `/inbox/v1`.',
      parse: origins,
      whenUnset: "none: only pages served from the API's own origin",
    }),
    INBOX_RETENTION: variable({
      description:
        'How long read and archived inbox messages are kept (`30d`, `90d`, ...); a Temporal Schedule removes older ones every hour. Unread ones stay.',
      parse: duration,
      default: '90d',
    }),
  },
  toConfig: (v): InAppConfig => ({
    inbox: {
      secret: v.INBOX_SECRET,
      tokenTtlMs: v.INBOX_TOKEN_TTL,
      corsOrigins: v.INBOX_CORS_ORIGINS ?? [],
      retentionMs: v.INBOX_RETENTION,
    },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends InAppConfig {}
}
