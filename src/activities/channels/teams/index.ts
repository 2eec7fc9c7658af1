import { parseRetryAfter, type ChannelDefinition, type FailureClass } from '../channel.js';
import {
  classifyUnanswered,
  createWebhookChannel,
  headerOf,
  type WebhookChannelOptions,
  type WebhookChannelSpec,
} from '../webhook-channel.js';
import { teamsConfig } from './config.js';
import { TEAMS_WEBHOOK, teamsWebhook } from './address.js';
import { renderTeamsCard } from './card.js';

/** A non-2xx answer from a Teams webhook: its status only, since the URL is the user's. */
export class TeamsWebhookError extends Error {
  override name = 'TeamsWebhookError';
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`Teams ${status}`);
  }
}

/** 429 and 5xx may pass (Retry-After honoured); any other 4xx describes the webhook or the card. */
export function classifyTeamsError(error: unknown): FailureClass {
  if (!(error instanceof TeamsWebhookError)) return classifyUnanswered(error, 'Teams');
  const { status, retryAfterMs } = error;
  if (status === 429 || status >= 500) {
    const reason = `${error.message}: ${status === 429 ? 'rate limited' : 'Teams error'}`;
    return { permanent: false, reason, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  if (status === 404)
    return { permanent: true, reason: `${error.message}: the workflow was deleted or turned off` };
  if (status === 401 || status === 403)
    return { permanent: true, reason: `${error.message}: the webhook's signature was refused` };
  return { permanent: true, reason: `${error.message}: the card was refused` };
}

const teamsSpec: WebhookChannelSpec = {
  channel: 'teams',
  provider: 'Teams',
  address: TEAMS_WEBHOOK,
  render: renderTeamsCard,
  // Workflows answers 202 with the run's id in a header; Herald keeps it for the cross-reference.
  accepted: (answer) => ({ providerMessageId: headerOf(answer, 'x-ms-workflow-run-id') }),
  refused: (answer) =>
    new TeamsWebhookError(
      answer.status,
      answer.status === 429 || answer.status === 503
        ? parseRetryAfter(headerOf(answer, 'retry-after'))
        : undefined,
    ),
  classify: classifyTeamsError,
};

export const createTeamsChannel = (options: WebhookChannelOptions) =>
  createWebhookChannel(teamsSpec, options);

export const teamsChannel: ChannelDefinition = {
  channel: 'teams',
  label: 'Microsoft Teams',
  config: teamsConfig,
  // Its slice, and the secret that signs the acknowledge link a notification may carry.
  workerEnvironment: [...Object.keys(teamsConfig.variables), 'PREFERENCES_SECRET'],
  composeProfiles: ['teams'],
  // Teams takes about 4 requests a second per webhook; the queue's limit is for all webhooks together.
  defaultRateLimit: 4,
  contact: teamsWebhook,
  hasAddress: (recipient) => Boolean(recipient.contacts.teams),
  isConfigured: (config) => config.teams.enabled,
  create: (config, context) => createTeamsChannel({ outbound: config.outbound, ca: context.ca }),
};
