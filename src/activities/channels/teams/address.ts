import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/**
 * A Teams incoming-webhook URL: a Workflows ("Post to a channel when a webhook request is received")
 * trigger URL, https. Its path and query carry the signature that authorises posting, so the API
 * returns it masked. Hosts vary by region and tenant (logic.azure.com, api.powerplatform.com, ...);
 * the outbound policy refuses private ones.
 */
export const TEAMS_WEBHOOK = /^https:\/\/[^/?#@\s]+\/[^\s]*$/;

const host = (url: string) => (URL.canParse(url) ? new URL(url).host : 'an unknown host');

export const teamsWebhook: ContactDefinition = {
  schema: z
    .string()
    .max(2048)
    .regex(TEAMS_WEBHOOK, { message: 'must be an https webhook URL from Teams Workflows' })
    .refine((url) => URL.canParse(url), { message: 'must be a URL' }),
  outboundUrl: true,
  // The host shows which service it is; the path and query hold the signature.
  mask: (url) => `https://${host(url)}/••••`,
  hint: (url) => `a webhook on ${host(url)}`,
  missing: 'no Teams webhook on file',
};
