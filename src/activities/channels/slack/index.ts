import {
  createInFlightSends,
  parseRetryAfter,
  PermanentChannelError,
  systemCode,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
} from '../channel.js';
import { slackConfig } from './config.js';
import { SLACK_ID, slackConversation } from './address.js';
import { renderSlack } from './message.js';

export interface SlackOptions {
  botToken: string;
  /** Slack's Web API base: https://slack.com/api, or a test fake. */
  apiUrl: string;
  /** One request including its answer; well inside the delivery activity's own timeout. */
  timeoutMs?: number;
}

/** Slack said no: an HTTP status other than 2xx, or `ok: false` with its error code. */
export class SlackApiError extends Error {
  override name = 'SlackApiError';
  constructor(
    /** Slack's error code (`channel_not_found`), or `http_<status>` when the answer was not Slack's JSON. */
    readonly error: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`Slack ${error}`);
  }
}

// Errors that describe the conversation, the user or the token: the next attempt would get the same answer.
const WITH_HINT: Record<string, string> = {
  invalid_auth: 'the token was rejected: check SLACK_BOT_TOKEN',
  not_authed: 'no token was sent: check SLACK_BOT_TOKEN',
  token_revoked: 'the token was revoked: check SLACK_BOT_TOKEN',
  account_inactive: "the app's bot user or the token's owner was deactivated",
  not_in_channel: 'invite the app to the channel',
  channel_not_found: 'no such conversation, or the app cannot see it',
  user_not_found: 'no such member',
  is_archived: 'the channel is archived',
  unreadable_answer: "the answer was not Slack's JSON: check SLACK_API_URL",
};
// Slack's own trouble: another attempt may pass.
const TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Slack's documented errors are permanent, except its own trouble, 429 and 5xx. */
export function classifySlackError(error: unknown): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof SlackApiError) {
    const { status, retryAfterMs } = error;
    if (status === 429 || status >= 500 || TRANSIENT.has(error.error)) {
      return { permanent: false, reason: error.message, ...(retryAfterMs !== undefined && { retryAfterMs }) };
    }
    const hint =
      WITH_HINT[error.error] ?? (status === 404 || status === 405 ? 'check SLACK_API_URL' : undefined);
    // Other `ok: false` answers describe the request itself (msg_too_long, invalid_blocks, missing_scope).
    return { permanent: true, reason: hint ? `${error.message} (${hint})` : error.message };
  }
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e?.name === 'TimeoutError') return { permanent: false, reason: 'Slack timed out' };
  const code = systemCode(error);
  if (code) return { permanent: false, reason: `Slack unreachable: ${code}` };
  // A send cancelled by close() (worker shutting down) or anything unforeseen: another attempt may do.
  return { permanent: false, reason: typeof e?.message === 'string' ? e.message : String(error) };
}

/** Slack's JSON `{ ok, error, channel, ts }`, or nothing when the answer was something else. */
function slackAnswer(
  body: string,
): { ok?: unknown; error?: unknown; channel?: unknown; ts?: unknown } | undefined {
  try {
    const json: unknown = JSON.parse(body);
    return typeof json === 'object' && json !== null ? json : undefined;
  } catch {
    return undefined;
  }
}

export function createSlackChannel(options: SlackOptions): ChannelProvider {
  const endpoint = `${options.apiUrl.replace(/\/+$/, '')}/chat.postMessage`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const inFlight = createInFlightSends('Slack');

  return {
    channel: 'slack',
    async send(recipient, message, attempt) {
      const conversation = recipient.contacts.slack;
      if (!conversation) throw new PermanentChannelError('the user has no Slack id');
      if (!SLACK_ID.test(conversation)) throw new PermanentChannelError('invalid Slack id');
      if (!message.title.trim() && !message.body.trim()) {
        throw new PermanentChannelError('the notification has neither title nor body');
      }
      inFlight.throwIfClosed();
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          Authorization: `Bearer ${options.botToken}`,
        },
        body: JSON.stringify(renderSlack(conversation, message)),
        signal: inFlight.requestSignal(attempt, timeoutMs),
      });
      const answer = slackAnswer(await response.text());
      if (!response.ok) {
        const error = typeof answer?.error === 'string' ? answer.error : `http_${response.status}`;
        // Slack's rate limits answer 429 with Retry-After in seconds.
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new SlackApiError(error, response.status, retryAfterMs);
      }
      if (answer?.ok !== true) {
        const error = typeof answer?.error === 'string' ? answer.error : 'unreadable_answer';
        throw new SlackApiError(error, response.status);
      }
      const ts = typeof answer.ts === 'string' ? answer.ts : undefined;
      const channel = typeof answer.channel === 'string' ? answer.channel : conversation;
      return { providerMessageId: ts && `${channel}:${ts}` };
    },
    classify: classifySlackError,
    async close() {
      inFlight.close();
    },
  };
}

export const slackChannel: ChannelDefinition = {
  channel: 'slack',
  label: 'Slack',
  config: slackConfig,
  // Its slice, and the secret that signs the acknowledge link a notification may carry.
  workerEnvironment: [...Object.keys(slackConfig.variables), 'PREFERENCES_SECRET'],
  composeProfiles: ['slack'],
  // chat.postMessage allows about one message a second per conversation (short bursts pass); the queue's
  // limit is for all conversations together, so it never exceeds that for one (raise it for many).
  defaultRateLimit: 1,
  contact: slackConversation,
  hasAddress: (recipient) => Boolean(recipient.contacts.slack),
  isConfigured: (config) => Boolean(config.slack.botToken),
  create: (config) => createSlackChannel({ botToken: config.slack.botToken!, apiUrl: config.slack.apiUrl }),
};
