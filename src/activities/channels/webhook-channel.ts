// Chat channels that POST JSON to a URL the user gave (Discord and Teams webhooks). Over HTTPS only,
// through an agent whose lookup is the outbound policy's, so a name that resolves to a private address
// reaches nothing; fetch cannot take that agent, hence node:https. Redirects are never followed.
import https from 'node:https';
import { FORBIDDEN_ADDRESS, assertOutboundUrl, type OutboundPolicy } from '../../platform/outbound.js';
import {
  createInFlightSends,
  PermanentChannelError,
  systemCode,
  type ChannelProvider,
  type FailureClass,
  type OutgoingMessage,
  type SendResult,
} from './channel.js';
import type { ChannelName } from './registry.js';

export interface WebhookAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The answer's body as text, cut at MAX_BODY_BYTES. */
  body: string;
}

/** What one webhook channel is: how it renders, where it posts, and how it reads the answers. */
export interface WebhookChannelSpec {
  channel: ChannelName;
  /** Names the provider in errors and reasons: "Discord", "Teams". */
  provider: string;
  /** What a usable address is (the API's own check, again: an address stored by hand may be anything). */
  address: RegExp;
  /** The URL to POST to, from the user's webhook URL. */
  target?(webhook: string): string;
  render(message: OutgoingMessage): unknown;
  /** A 2xx answer: what Herald keeps of it. */
  accepted(answer: WebhookAnswer): SendResult;
  /** Any other answer: the error `classify` judges. */
  refused(answer: WebhookAnswer): Error;
  classify(error: unknown): FailureClass;
}

export interface WebhookChannelOptions {
  /** Where webhook URLs may point (OUTBOUND_ALLOWED_HOSTS): checked before sending and when connecting. */
  outbound: OutboundPolicy;
  /** Extra CA to trust (a local fake with a self-signed certificate). */
  ca?: string;
  /** One request including its answer; well inside the delivery activity's own timeout. */
  timeoutMs?: number;
}

/** Enough for any error or message object a chat webhook returns; more is not read. */
const MAX_BODY_BYTES = 64 * 1024;

/** The request took longer than its budget. */
export class WebhookTimeoutError extends Error {
  override name = 'WebhookTimeoutError';
}

function postJson(
  url: string,
  payload: unknown,
  options: { agent: https.Agent; timeoutMs: number; signal: AbortSignal; provider: string },
): Promise<WebhookAnswer> {
  const body = JSON.stringify(payload);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) =>
      reject(timeout.aborted ? new WebhookTimeoutError(`${options.provider} did not answer in time`) : error);
    const request = https.request(
      url,
      {
        method: 'POST',
        agent: options.agent,
        signal: AbortSignal.any([options.signal, timeout]),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body).toString(),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_BODY_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', fail);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', fail);
    request.end(body);
  });
}

/**
 * A failure without the provider's answer: the channel's own refusal, a timeout or the network. A network
 * error's reason holds its code only, since its message names hosts and addresses. A private address is
 * permanent: retrying reaches it again.
 */
export function classifyUnanswered(error: unknown, provider: string): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof WebhookTimeoutError) return { permanent: false, reason: error.message };
  if ((error as Error | null)?.name === 'AbortError')
    return { permanent: false, reason: `${provider} request cancelled` };
  const code = systemCode(error);
  if (code === FORBIDDEN_ADDRESS)
    return { permanent: true, reason: `${provider} webhook refused: its address is not public (${code})` };
  if (code) return { permanent: false, reason: `${provider} unreachable (${code})` };
  return { permanent: false, reason: `${provider} request failed` };
}

export function createWebhookChannel(
  spec: WebhookChannelSpec,
  options: WebhookChannelOptions,
): ChannelProvider {
  const { outbound } = options;
  // Our own agent for an extra CA; otherwise the policy's, whose lookup refuses private addresses.
  const ownAgent = options.ca ? outbound.httpsAgentWith({ ca: options.ca }) : undefined;
  const agent = ownAgent ?? outbound.httpsAgent;
  const inFlight = createInFlightSends(spec.provider);

  return {
    channel: spec.channel,
    async send(recipient, message, attempt) {
      const webhook = recipient.contacts[spec.channel];
      if (!webhook) throw new PermanentChannelError(`the user has no ${spec.provider} webhook`);
      // https only: an address stored otherwise is refused here, not sent in clear.
      if (!spec.address.test(webhook) || !URL.canParse(webhook))
        throw new PermanentChannelError(`invalid ${spec.provider} webhook URL`);
      if (!message.title.trim() && !message.body.trim())
        throw new PermanentChannelError('the notification has neither title nor body');
      inFlight.throwIfClosed();
      // A literal address never reaches the agent's lookup: checked here.
      assertOutboundUrl(outbound, webhook);
      const answer = await postJson(spec.target?.(webhook) ?? webhook, spec.render(message), {
        agent,
        timeoutMs: options.timeoutMs ?? 15_000,
        // Closing the channel or the attempt's end stops the request; postJson adds the timeout itself,
        // to tell it apart (WebhookTimeoutError).
        signal: inFlight.requestSignal(attempt),
        provider: spec.provider,
      });
      if (answer.status < 200 || answer.status >= 300) throw spec.refused(answer);
      return spec.accepted(answer);
    },
    classify: spec.classify,
    async close() {
      inFlight.close();
      ownAgent?.destroy();
    },
  };
}

/** A header's value when it was sent once. */
export const headerOf = (answer: WebhookAnswer, name: string): string | undefined => {
  const value = answer.headers[name];
  return typeof value === 'string' ? value : undefined;
};
