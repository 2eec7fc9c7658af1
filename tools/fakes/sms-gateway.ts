import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWaiters } from './waiters.js';

/** A message the gateway accepted. */
export interface AcceptedSms {
  id: string;
  to: string;
  text: string;
  idempotencyKey?: string;
}

/** Every request, whatever the answer: for asserting on headers, or that nothing was sent at all. */
export interface GatewayRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface SimulatedAnswer {
  status: number;
  /** An object is sent as JSON, a string as it is; default `{ "error": <status text> }`. */
  body?: string | object;
  /** The Retry-After header: seconds or an HTTP date. */
  retryAfter?: number | string;
}

export interface SmsGateway {
  /** Where to POST messages (SMS_HTTP_URL). */
  url: string;
  messages: AcceptedSms[];
  requests: GatewayRequest[];
  /** Answer the next `times` requests with this, whatever they contain, before checking anything. */
  failNext(times: number, answer: SimulatedAnswer): void;
  waitFor(predicate: (message: AcceptedSms) => boolean, timeoutMs?: number): Promise<AcceptedSms>;
  /** Forget messages, requests and pending failures (between tests that share one gateway). */
  reset(): void;
  stop(): Promise<void>;
}

const PATH = '/messages';
const E164 = /^\+[1-9]\d{6,14}$/;

interface Answer {
  status: number;
  body: string | object;
  headers?: Record<string, string>;
}

/**
 * A real HTTP SMS gateway speaking Herald's `http` provider contract: POST JSON `{ to, text }` with
 * `Authorization: Bearer <token>` (checked when a token is given), answering 200 `{ id }`. A repeated
 * Idempotency-Key gets the first message's id and is not accepted twice, as a real gateway would.
 */
export async function startSmsGateway(options: { token?: string } = {}): Promise<SmsGateway> {
  const messages: AcceptedSms[] = [];
  const requests: GatewayRequest[] = [];
  const failures: SimulatedAnswer[] = [];
  const arrivals = createWaiters(messages, 'SMS reached the gateway');

  function answer(req: http.IncomingMessage, body: string): Answer {
    const failure = failures.shift();
    if (failure) {
      return {
        status: failure.status,
        body: failure.body ?? { error: http.STATUS_CODES[failure.status] ?? 'simulated failure' },
        headers: failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      };
    }
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== PATH)
      return { status: 404, body: { error: 'not found' } };
    if (req.method !== 'POST')
      return { status: 405, body: { error: 'use POST' }, headers: { allow: 'POST' } };
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return { status: 401, body: { error: 'invalid token' }, headers: { 'www-authenticate': 'Bearer' } };
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return { status: 415, body: { error: 'Content-Type must be application/json' } };
    }
    let json: { to?: unknown; text?: unknown };
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      return { status: 400, body: { error: 'body is not JSON' } };
    }
    if (typeof json !== 'object' || json === null)
      return { status: 400, body: { error: 'body is not an object' } };
    if (typeof json.to !== 'string' || !E164.test(json.to)) {
      return { status: 400, body: { error: 'to must be an E.164 phone number' } };
    }
    if (typeof json.text !== 'string' || json.text === '') {
      return { status: 400, body: { error: 'text must be a non-empty string' } };
    }
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    const earlier = idempotencyKey && messages.find((m) => m.idempotencyKey === idempotencyKey);
    if (earlier) return { status: 200, body: { id: earlier.id } };
    const message: AcceptedSms = { id: randomUUID(), to: json.to, text: json.text, idempotencyKey };
    messages.push(message);
    arrivals.notify();
    return { status: 200, body: { id: message.id } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const reply = answer(req, body);
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        status: reply.status,
      });
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${PATH}`,
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
