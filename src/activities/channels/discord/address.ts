import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/**
 * A Discord webhook URL (Server Settings → Integrations → Webhooks): https, `/api/webhooks/<id>/<token>`.
 * The token is a credential, so the API returns the URL masked. The host is not fixed to discord.com
 * (ptb. and canary. hosts exist); the outbound policy refuses private ones.
 */
export const DISCORD_WEBHOOK =
  /^https:\/\/[^/?#@\s]+\/api(?:\/v[0-9]{1,2})?\/webhooks\/([0-9]{1,20})\/[A-Za-z0-9_-]{1,128}$/;

const host = (url: string) => (URL.canParse(url) ? new URL(url).host : 'an unknown host');

export const discordWebhook: ContactDefinition = {
  schema: z
    .string()
    .max(512)
    .regex(DISCORD_WEBHOOK, {
      message: 'must be a Discord webhook URL such as https://discord.com/api/webhooks/<id>/<token>',
    })
    .refine((url) => URL.canParse(url), { message: 'must be a URL' }),
  outboundUrl: true,
  // The id stays, so an operator can tell webhooks apart; the token goes.
  mask: (url) => url.replace(/\/[^/]+$/, '/••••'),
  hint: (url) => `a webhook on ${host(url)}`,
  missing: 'no Discord webhook on file',
};
