// The Web Push channel's configuration: its VAPID identity and how long push services keep a message.
import { z } from 'zod';
import { defineConfigSlice, variable } from '../../../platform/config/define.js';

export interface PushConfig {
  vapid: { publicKey?: string; privateKey?: string; subject: string };
  push: { ttlSeconds: number };
}

export const pushConfig = defineConfigSlice({
  title: 'Web Push',
  variables: {
    VAPID_PUBLIC_KEY: variable({
      description:
        "The VAPID public key browsers subscribe with; set both keys or neither, and the push channel is off without them. Keep the pair: browsers' subscriptions are bound to it.",
      parse: z.string().min(1),
      whenUnset: 'unset; `npm run dev` generates a pair into `.data/vapid.json`',
    }),
    VAPID_PRIVATE_KEY: variable({
      description:
        'The VAPID private key that signs each push (`npx web-push generate-vapid-keys` makes a pair).',
      parse: z.string().min(1),
      secret: true,
    }),
    VAPID_SUBJECT: variable({
      description: 'A contact for push services, `mailto:` or `https:`.',
      parse: z.string().min(1),
      default: 'mailto:herald@localhost',
    }),
    PUSH_TTL_SECONDS: variable({
      description:
        'How long, in seconds, a push service keeps a message for a browser that is offline (at most 28 days).',
      parse: z.coerce.number().int().min(0).max(2_419_200),
      default: '86400',
    }),
  },
  check: (v) =>
    Boolean(v.VAPID_PUBLIC_KEY) !== Boolean(v.VAPID_PRIVATE_KEY)
      ? [
          {
            variable: v.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY',
            message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together',
          },
        ]
      : [],
  toConfig: (v): PushConfig => ({
    vapid: { publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY, subject: v.VAPID_SUBJECT },
    push: { ttlSeconds: v.PUSH_TTL_SECONDS },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends PushConfig {}
}
