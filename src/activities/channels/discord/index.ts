import { parseRetryAfter, type ChannelDefinition, type FailureClass } from '../channel.js';
import {
  classifyUnanswered,
  createWebhookChannel,
  headerOf,
  type WebhookAnswer,
  type WebhookChannelOptions,
  type WebhookChannelSpec,
} from '../webhook-channel.js';
import { discordConfig } from './config.js';
import { DISCORD_WEBHOOK, discordWebhook } from './address.js';
import { renderDiscord } from './message.js';

/**
 * A non-2xx answer from a Discord webhook. Only its status and Discord's numeric error code are kept:
 * the URL is the user's, so what answers it is not echoed into reasons callers read.
 */
export class DiscordWebhookError extends Error {
  override name = 'DiscordWebhookError';
  constructor(
    readonly status: number,
    readonly code?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`Discord ${status}${code === undefined ? '' : ` (code ${code})`}`);
  }
}

/** Discord's error JSON: `{ message, code }`, and `retry_after` in seconds (fractional) on 429. */
function refused(answer: WebhookAnswer): DiscordWebhookError {
  let json: { code?: unknown; retry_after?: unknown } = {};
  try {
    json = (JSON.parse(answer.body) as typeof json | null) ?? {};
  } catch {
    // Not Discord's JSON (a proxy's page): the status alone decides.
  }
  const code = typeof json.code === 'number' ? json.code : undefined;
  let retryAfterMs: number | undefined;
  if (answer.status === 429) {
    const seconds = json.retry_after;
    retryAfterMs =
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
        ? Math.min(Math.ceil(seconds * 1000), 3_600_000)
        : parseRetryAfter(headerOf(answer, 'retry-after'));
  }
  return new DiscordWebhookError(answer.status, code, retryAfterMs);
}

export function classifyDiscordError(error: unknown): FailureClass {
  if (!(error instanceof DiscordWebhookError)) return classifyUnanswered(error, 'Discord');
  const { status, retryAfterMs } = error;
  if (status === 429) {
    const reason = `${error.message}: rate limited`;
    return { permanent: false, reason, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  if (status === 408 || status >= 500) return { permanent: false, reason: `${error.message}: Discord error` };
  if (status === 404) return { permanent: true, reason: `${error.message}: the webhook was deleted` };
  if (status === 401 || status === 403)
    return { permanent: true, reason: `${error.message}: the webhook's token was refused` };
  return { permanent: true, reason: `${error.message}: the message was refused` };
}

const discordSpec: WebhookChannelSpec = {
  channel: 'discord',
  provider: 'Discord',
  address: DISCORD_WEBHOOK,
  // wait=true: Discord answers once the message exists, with its id, instead of 204 before that.
  target: (webhook) => `${webhook}?wait=true`,
  render: renderDiscord,
  accepted(answer) {
    let id: unknown;
    try {
      id = (JSON.parse(answer.body) as { id?: unknown } | null)?.id;
    } catch {
      // Posted; a missing id only costs the cross-reference.
    }
    return { providerMessageId: typeof id === 'string' ? id : undefined };
  },
  refused,
  classify: classifyDiscordError,
};

export const createDiscordChannel = (options: WebhookChannelOptions) =>
  createWebhookChannel(discordSpec, options);

export const discordChannel: ChannelDefinition = {
  channel: 'discord',
  label: 'Discord',
  config: discordConfig,
  // Its slice, and the secret that signs the acknowledge link a notification may carry.
  workerEnvironment: [...Object.keys(discordConfig.variables), 'PREFERENCES_SECRET'],
  composeProfiles: ['discord'],
  // A webhook takes 5 requests per 2 seconds; the queue's limit is for all webhooks together, so no one
  // webhook goes over it (raise it when many users have one).
  defaultRateLimit: 2.5,
  contact: discordWebhook,
  hasAddress: (recipient) => Boolean(recipient.contacts.discord),
  isConfigured: (config) => config.discord.enabled,
  create: (config, context) => createDiscordChannel({ outbound: config.outbound, ca: context.ca }),
};
