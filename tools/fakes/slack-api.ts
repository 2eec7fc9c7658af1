// Slack's Web API, the one method Herald calls: chat.postMessage over HTTP, JSON in and out. Like Slack,
// it answers 200 with `ok: false` and an error code for a bad token or conversation, and 429 with
// Retry-After when it rate limits.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWaiters } from './waiters.js';

/** A message Slack accepted. */
export interface SlackMessage {
  channel: string;
  text?: string;
  blocks?: unknown[];
  /** Every field posted (unfurl_links, ...). */
  params: Record<string, unknown>;
  ts: string;
  /** `Date.now()` when it arrived. */
  at: number;
}

/** Every request, whatever the answer. */
export interface SlackRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
  /** Slack's `error`, when it said `ok: false`. */
  error?: string;
  at: number;
}

export interface SlackAnswer {
  /** Default 200, as Slack answers its own errors. */
  status?: number;
  /** `ok: false` with this error (`ratelimited` by default on 429). */
  error?: string;
  /** Retry-After in seconds. */
  retryAfter?: number;
}

export interface SlackFake {
  /** SLACK_API_URL: chat.postMessage is under it. */
  url: string;
  messages: SlackMessage[];
  requests: SlackRequest[];
  /** Answer the next `times` requests with this, before checking anything. */
  failNext(times: number, answer: SlackAnswer): void;
  /** Every post to this conversation gets `ok: false` with this error (channel_not_found, is_archived, ...). */
  failChannel(channel: string, error: string): void;
  waitFor(predicate: (message: SlackMessage) => boolean, timeoutMs?: number): Promise<SlackMessage>;
  reset(): void;
  stop(): Promise<void>;
}

const METHOD = '/api/chat.postMessage';

export async function startSlackFake(options: { token: string }): Promise<SlackFake> {
  const messages: SlackMessage[] = [];
  const requests: SlackRequest[] = [];
  const failures: SlackAnswer[] = [];
  const failedChannels = new Map<string, string>();
  const arrivals = createWaiters(messages, 'message reached the Slack fake');
  let sequence = 0;

  type Reply = { status: number; body: object; headers?: Record<string, string> };
  const refuse = (error: string, status = 200, headers?: Record<string, string>): Reply => ({
    status,
    body: { ok: false, error },
    headers,
  });

  function answer(req: http.IncomingMessage, raw: string, at: number): Reply {
    const failure = failures.shift();
    if (failure) {
      const status = failure.status ?? 200;
      return refuse(
        failure.error ?? (status === 429 ? 'ratelimited' : 'internal_error'),
        status,
        failure.retryAfter === undefined ? undefined : { 'retry-after': String(failure.retryAfter) },
      );
    }
    if (new URL(req.url ?? '/', 'http://slack').pathname !== METHOD) return refuse('unknown_method', 404);
    if (req.method !== 'POST') return refuse('method_not_supported_for_channel_type', 405);
    const authorization = req.headers.authorization;
    if (!authorization) return refuse('not_authed');
    if (authorization !== `Bearer ${options.token}`) return refuse('invalid_auth');
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return refuse('invalid_form_data');
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(raw) as Record<string, unknown>;
      if (typeof params !== 'object' || params === null) throw new Error('not an object');
    } catch {
      return refuse('invalid_json');
    }
    const channel = params.channel;
    if (typeof channel !== 'string' || !/^[CDGUW][A-Z0-9]+$/.test(channel))
      return refuse('channel_not_found');
    const failed = failedChannels.get(channel);
    if (failed) return refuse(failed);
    const text = typeof params.text === 'string' ? params.text : undefined;
    const blocks = Array.isArray(params.blocks) ? params.blocks : undefined;
    if (!text && !blocks?.length) return refuse('no_text');
    if ((text?.length ?? 0) > 40_000) return refuse('msg_too_long');
    const ts = `${Math.floor(at / 1000)}.${String(++sequence).padStart(6, '0')}`;
    messages.push({ channel, text, blocks, params, ts, at });
    arrivals.notify();
    return { status: 200, body: { ok: true, channel, ts, message: { type: 'message', text, blocks, ts } } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const reply = answer(req, body, at);
      const error = (reply.body as { error?: string }).error;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        status: reply.status,
        error,
        at,
      });
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api`,
    messages,
    requests,
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    failChannel(channel, error) {
      failedChannels.set(channel, error);
    },
    waitFor: arrivals.waitFor,
    reset() {
      messages.length = 0;
      requests.length = 0;
      failures.length = 0;
      failedChannels.clear();
    },
    stop() {
      // fetch keeps connections alive; close them so stopping does not wait for their idle timeout.
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      return closed;
    },
  };
}
