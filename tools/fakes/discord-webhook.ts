// Discord's webhook execution endpoint (POST /api/webhooks/<id>/<token>) over HTTPS: the token in the
// path is the credential, checked as Discord does (404 Unknown Webhook, 401 Invalid Webhook Token), and
// `?wait=true` answers with the message object instead of 204.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { startHttpsFakeServer, type Reply } from './https-server.js';
import { createWaiters } from './waiters.js';

export interface DiscordMessage {
  id: string;
  webhookId: string;
  content?: string;
  embeds?: Record<string, unknown>[];
  allowedMentions?: unknown;
  /** Every field posted. */
  params: Record<string, unknown>;
  /** Whether the request asked for `?wait=true`. */
  wait: boolean;
  at: number;
}

export interface DiscordRequest {
  webhookId?: string;
  path: string;
  body: string;
  status: number;
  at: number;
}

export interface DiscordAnswer {
  status: number;
  /** On 429: Discord's `retry_after`, in seconds (fractional), also sent as Retry-After (rounded up). */
  retryAfter?: number;
  /** Discord's JSON error code (10015 Unknown Webhook, 50006 empty message, ...). */
  code?: number;
}

export interface DiscordFake {
  origin: string;
  ca: string;
  /** A new webhook; its URL holds its id (digits, random unless given) and token, as Discord's do. */
  createWebhook(id?: string): string;
  /** The webhook is gone: posts to it get 404 Unknown Webhook. */
  deleteWebhook(url: string): void;
  messages: DiscordMessage[];
  requests: DiscordRequest[];
  /** Answer the next `times` requests with this, before checking anything. */
  failNext(times: number, answer: DiscordAnswer): void;
  waitFor(predicate: (message: DiscordMessage) => boolean, timeoutMs?: number): Promise<DiscordMessage>;
  reset(): void;
  stop(): Promise<void>;
}

const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/(\d+)\/([A-Za-z0-9_-]+)$/;
const error = (status: number, code: number, message: string): Reply => ({ status, body: { message, code } });

export async function startDiscordFake(): Promise<DiscordFake> {
  const webhooks = new Map<string, string>(); // id → token
  const messages: DiscordMessage[] = [];
  const requests: DiscordRequest[] = [];
  const failures: DiscordAnswer[] = [];
  const arrivals = createWaiters(messages, 'message reached the Discord fake');
  let snowflake = 1_100_000_000_000_000_000n;

  function answer(req: http.IncomingMessage, body: string, at: number, webhookId?: string): Reply {
    const failure = failures.shift();
    if (failure) {
      if (failure.status !== 429) return error(failure.status, failure.code ?? 0, 'simulated failure');
      const seconds = failure.retryAfter ?? 1;
      return {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: seconds, global: false },
        headers: { 'retry-after': String(Math.ceil(seconds)), 'x-ratelimit-scope': 'user' },
      };
    }
    const url = new URL(req.url ?? '/', 'https://discord');
    const match = WEBHOOK_PATH.exec(url.pathname);
    if (!match || req.method !== 'POST') return error(404, 0, '404: Not Found');
    const [, id = '', token] = match;
    if (!webhooks.has(id)) return error(404, 10015, 'Unknown Webhook');
    if (webhooks.get(id) !== token) return error(401, 50027, 'Invalid Webhook Token');
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(body) as Record<string, unknown>;
      if (typeof params !== 'object' || params === null) throw new Error('not an object');
    } catch {
      return error(400, 50109, 'The request body contains invalid JSON.');
    }
    const content = typeof params.content === 'string' ? params.content : undefined;
    const embeds = Array.isArray(params.embeds) ? (params.embeds as Record<string, unknown>[]) : undefined;
    if (!content && !embeds?.length) return error(400, 50006, 'Cannot send an empty message');
    if ((content?.length ?? 0) > 2000 || (embeds?.length ?? 0) > 10)
      return error(400, 50035, 'Invalid Form Body');
    const wait = url.searchParams.get('wait') === 'true';
    const message: DiscordMessage = {
      id: String(++snowflake),
      webhookId: id,
      content,
      embeds,
      allowedMentions: params.allowed_mentions,
      params,
      wait,
      at,
    };
    messages.push(message);
    arrivals.notify();
    if (!wait) return { status: 204 };
    return { status: 200, body: { id: message.id, type: 0, content, embeds, webhook_id: webhookId } };
  }

  const server = await startHttpsFakeServer((req, body, at) => {
    const webhookId = WEBHOOK_PATH.exec(new URL(req.url ?? '/', 'https://discord').pathname)?.[1];
    const reply = answer(req, body, at, webhookId);
    requests.push({ webhookId, path: req.url ?? '', body, status: reply.status, at });
    return reply;
  });

  return {
    origin: server.origin,
    ca: server.ca,
    createWebhook(id = String(++snowflake)) {
      if (!/^\d+$/.test(id)) throw new Error(`a Discord webhook id is digits: ${id}`);
      const token = randomBytes(48).toString('base64url');
      webhooks.set(id, token);
      return `${server.origin}/api/webhooks/${id}/${token}`;
    },
    deleteWebhook(url) {
      const id = WEBHOOK_PATH.exec(new URL(url).pathname)?.[1];
      if (id) webhooks.delete(id);
    },
    messages,
    requests,
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    waitFor: arrivals.waitFor,
    reset() {
      messages.length = 0;
      requests.length = 0;
      failures.length = 0;
    },
    stop: server.stop,
  };
}
