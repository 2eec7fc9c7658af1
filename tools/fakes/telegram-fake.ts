// A small Telegram Bot API on node:http for tests: real HTTP, Telegram's URL layout and JSON envelope,
// HTML parse mode checked as strictly as Telegram does, and scripted failures (429 with retry_after,
// 403 blocked, 5xx, slow answers) that an emulator without failure injection cannot produce.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWaiters } from './waiters.js';
import { BotApiError, createTelegramPeople, type TelegramPeople } from './telegram-updates.js';

export interface TelegramFakeOptions {
  /** The only token the fake accepts; any other gets 401 (well-formed) or 404, as from Telegram. */
  token: string;
}

/** One sendMessage the fake accepted. */
export interface ReceivedTelegramMessage {
  messageId: number;
  chatId: string;
  /** The text as sent, markup included. */
  text: string;
  parseMode?: string;
  /** The text a Telegram client shows: HTML parsed and entities decoded (unchanged for other modes). */
  plainText: string;
  /** Every parameter of the call; structured fields (link_preview_options, reply_markup) as objects. */
  params: Record<string, unknown>;
  at: number;
}

/** One HTTP call to a `/bot<token>/<method>` path, whatever the answer. */
export interface TelegramRequest {
  method: string;
  token: string;
  params: Record<string, unknown>;
  at: number;
}

export interface TelegramFailure {
  /** HTTP status and `error_code`, such as 429, 403, 400 or 500. */
  status: number;
  description: string;
  /** Seconds, sent as `parameters.retry_after` (Telegram's flood control). */
  retryAfter?: number;
  /** Fail only calls of this method (such as `sendMessage`); any method when absent. */
  method?: string;
}

export interface TelegramFake extends TelegramPeople {
  /** The API root to pass as `apiRoot` / TELEGRAM_API_URL. */
  url: string;
  token: string;
  messages: ReceivedTelegramMessage[];
  requests: TelegramRequest[];
  /** `Date.now()` of each call, in order: to check that a retry waited for retry_after. */
  readonly requestTimes: number[];
  /** Answer the next `times` matching calls with this error instead of handling them. */
  failNext(times: number, failure: TelegramFailure): void;
  /** Answer every sendMessage to this chat with this error (a user who blocked the bot). */
  failChat(chatId: string, failure: Omit<TelegramFailure, 'method'>): void;
  /** Hold the answer to the next `times` calls for `ms` (to exercise client timeouts). */
  delayNext(times: number, ms: number): void;
  waitFor(
    predicate: (message: ReceivedTelegramMessage) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedTelegramMessage>;
  stop(): Promise<void>;
}

const TEXT_LIMIT = 4096;
const HTML_TAGS = new Set(
  'b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji tg-time'.split(' '),
);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Telegram's HTML parse mode: known tags, properly nested, entities decoded; errors worded as Telegram's. */
export function parseTelegramHtml(html: string): string {
  const fail = (problem: string) => new BotApiError(400, `Bad Request: can't parse entities: ${problem}`);
  const at = (i: number) => `at byte offset ${Buffer.byteLength(html.slice(0, i))}`;
  const open: string[] = [];
  let plain = '';
  for (let i = 0; i < html.length;) {
    if (html[i] === '<') {
      const tag = /^<(\/?)([a-zA-Z][\w-]*)?[^<>]*>/.exec(html.slice(i));
      if (!tag) throw fail(`Unclosed start tag ${at(i)}`);
      const name = (tag[2] ?? '').toLowerCase();
      if (!tag[1]) {
        if (!HTML_TAGS.has(name)) throw fail(`Unsupported start tag "${name}" ${at(i)}`);
        open.push(name);
      } else {
        const expected = open.pop();
        if (!expected) throw fail(`Unexpected end tag ${at(i)}`);
        if (expected !== name) {
          throw fail(`Unmatched end tag ${at(i)}, expected "</${expected}>", found "</${name}>"`);
        }
      }
      i += tag[0].length;
    } else if (html[i] === '&') {
      const entity = /^&(#x[0-9a-f]+|#\d+|[a-z]+);/i.exec(html.slice(i));
      const name = entity?.[1]?.toLowerCase();
      const decoded = !name
        ? undefined
        : name.startsWith('#x')
          ? String.fromCodePoint(parseInt(name.slice(2), 16))
          : name.startsWith('#')
            ? String.fromCodePoint(Number(name.slice(1)))
            : NAMED_ENTITIES[name];
      plain += decoded ?? '&';
      i += decoded === undefined ? 1 : entity![0].length;
    } else {
      plain += html[i++];
    }
  }
  if (open.length > 0) throw fail(`Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return plain;
}

/** Query string plus a urlencoded or JSON body; form fields holding JSON become objects. */
function parseParams(query: URLSearchParams, contentType: string, body: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const addForm = (form: URLSearchParams) => {
    for (const [key, value] of form) {
      try {
        params[key] = /^\s*[[{]/.test(value) ? JSON.parse(value) : value;
      } catch {
        params[key] = value;
      }
    }
  };
  addForm(query);
  if (contentType.startsWith('application/x-www-form-urlencoded')) addForm(new URLSearchParams(body));
  else if (contentType.startsWith('application/json') && body) {
    try {
      Object.assign(params, JSON.parse(body));
    } catch {
      throw new BotApiError(400, 'Bad Request: invalid JSON in the request body');
    }
  } else if (contentType.startsWith('multipart/')) {
    throw new BotApiError(400, 'Bad Request: the Telegram fake does not accept multipart uploads');
  }
  return params;
}

export async function startTelegramFake(options: TelegramFakeOptions): Promise<TelegramFake> {
  const messages: ReceivedTelegramMessage[] = [];
  const requests: TelegramRequest[] = [];
  const failures: TelegramFailure[] = [];
  const chatFailures = new Map<string, Omit<TelegramFailure, 'method'>>();
  const delays: number[] = [];
  const arrivals = createWaiters(messages, 'Telegram message reached the fake');
  const sleepers = new Set<() => void>();
  const channelIds = new Map<string, number>();
  let nextMessageId = 1;
  let stopped = false;

  const botId = Number(/^(\d+):/.exec(options.token)?.[1] ?? 1);
  const bot = { id: botId, is_bot: true, first_name: 'Herald Test Bot', username: 'herald_test_bot' };

  const chatFor = (chatId: string) => {
    if (/^-?\d+$/.test(chatId)) {
      const id = Number(chatId);
      return { id, type: id > 0 ? 'private' : chatId.startsWith('-100') ? 'supergroup' : 'group' };
    }
    if (/^@\w{4,}$/.test(chatId)) {
      if (!channelIds.has(chatId)) channelIds.set(chatId, -1_000_000_000_000 - channelIds.size - 1);
      return { id: channelIds.get(chatId)!, type: 'channel', username: chatId.slice(1) };
    }
    throw new BotApiError(400, 'Bad Request: chat not found');
  };

  // People's messages and taps, getUpdates, edits, callback answers, webhook registration.
  const incoming = createTelegramPeople(() => nextMessageId++);

  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    ...incoming.methods,
    getme: () => ({ ...bot, can_join_groups: true, can_read_all_group_messages: false }),
    sendmessage: (params) => {
      const chatId = params.chat_id === undefined ? '' : String(params.chat_id);
      if (!chatId) throw new BotApiError(400, 'Bad Request: chat_id is empty');
      const chatFailure = chatFailures.get(chatId);
      if (chatFailure)
        throw new BotApiError(chatFailure.status, chatFailure.description, chatFailure.retryAfter);
      const chat = chatFor(chatId);
      const text = params.text === undefined ? '' : String(params.text);
      const parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
      const plainText = parseMode?.toLowerCase() === 'html' ? parseTelegramHtml(text) : text;
      if (!plainText.trim()) throw new BotApiError(400, 'Bad Request: message text is empty');
      if (plainText.length > TEXT_LIMIT) throw new BotApiError(400, 'Bad Request: message is too long');
      const received = {
        messageId: nextMessageId++,
        chatId,
        text,
        parseMode,
        plainText,
        params,
        at: Date.now(),
      };
      messages.push(received);
      incoming.remember({
        messageId: received.messageId,
        chatId,
        text: plainText,
        replyMarkup: params.reply_markup as never,
      });
      arrivals.notify();
      return {
        message_id: received.messageId,
        from: bot,
        chat,
        date: Math.floor(received.at / 1000),
        text: plainText,
      };
    },
  };

  const takeFailure = (method: string): TelegramFailure | undefined => {
    const index = failures.findIndex((f) => !f.method || f.method.toLowerCase() === method);
    return index < 0 ? undefined : failures.splice(index, 1)[0];
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => (clearTimeout(timer), sleepers.delete(wake), resolve());
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const reply = (res: http.ServerResponse, status: number, payload: unknown) => {
    if (res.destroyed) return; // the client gave up (its timeout) or the fake stopped
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  };
  const replyError = (res: http.ServerResponse, error: BotApiError) =>
    reply(res, error.status, {
      ok: false,
      error_code: error.status,
      description: error.description,
      ...(error.retryAfter !== undefined && { parameters: { retry_after: error.retryAfter } }),
    });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://telegram-fake');
    const route = /^\/bot([^/]*)\/([^/]+)$/.exec(url.pathname);
    if (!route) return replyError(res, new BotApiError(404, 'Not Found'));
    const [, token = '', method = ''] = route;
    const params = parseParams(
      url.searchParams,
      req.headers['content-type'] ?? '',
      Buffer.concat(chunks).toString('utf8'),
    );
    requests.push({ method, token, params, at: Date.now() });

    const delay = delays.shift();
    if (delay) await sleep(delay);
    if (token !== options.token) {
      const wellFormed = /^\d+:[\w-]+$/.test(token);
      return replyError(
        res,
        wellFormed ? new BotApiError(401, 'Unauthorized') : new BotApiError(404, 'Not Found'),
      );
    }
    const handler = methods[method.toLowerCase()];
    if (!handler) return replyError(res, new BotApiError(404, 'Not Found'));
    const failure = takeFailure(method.toLowerCase());
    if (failure)
      return replyError(res, new BotApiError(failure.status, failure.description, failure.retryAfter));
    reply(res, 200, { ok: true, result: await handler(params) });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof BotApiError) replyError(res, error);
      else replyError(res, new BotApiError(500, `Internal Server Error: ${String(error)}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: Omit<TelegramFake, keyof TelegramPeople> = {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    messages,
    requests,
    get requestTimes() {
      return requests.map((r) => r.at);
    },
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    failChat(chatId, failure) {
      chatFailures.set(chatId, failure);
    },
    delayNext(times, ms) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    waitFor: arrivals.waitFor,
    async stop() {
      if (stopped) return;
      stopped = true;
      incoming.stop();
      for (const wake of sleepers) wake();
      // Keep-alive sockets from fetch would hold close() open; later calls must see ECONNREFUSED.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  // The people half has getters (webhook, pendingUpdates): copy its descriptors, not their values.
  return Object.defineProperties(fake, Object.getOwnPropertyDescriptors(incoming.people)) as TelegramFake;
}
