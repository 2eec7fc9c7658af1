// The email channel's configuration: its SMTP servers and sender.
import { z } from 'zod';
import { defineConfigSlice, variable } from '../../../platform/config/define.js';
import { url } from '../../../platform/config/parsers.js';

export interface EmailConfig {
  smtp: { url?: string; fallbackUrl?: string; from: string };
}

export const emailConfig = defineConfigSlice({
  title: 'Email',
  variables: {
    SMTP_URL: variable({
      description:
        'The SMTP server, `smtp://host:port` or `smtps://user:pass@host`; the email channel is off without it. `npm run dev` starts maildev when it is unset.',
      parse: url(['smtp:', 'smtps:']),
      secret: true,
    }),
    SMTP_FALLBACK_URL: variable({
      description: 'A second SMTP server, tried in the same attempt when the first fails transiently.',
      parse: url(['smtp:', 'smtps:']),
      secret: true,
    }),
    MAIL_FROM: variable({
      description: 'The sender address of every email.',
      parse: z.string().min(3),
      default: 'Herald <herald@localhost>',
    }),
  },
  toConfig: (v): EmailConfig => ({
    smtp: { url: v.SMTP_URL, fallbackUrl: v.SMTP_FALLBACK_URL, from: v.MAIL_FROM },
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends EmailConfig {}
}
