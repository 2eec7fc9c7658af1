// A webhook receiver on node:http for tests: keeps every POST exactly as it arrived (headers and raw
// body, so signatures can be checked) and answers with scripted statuses to exercise retries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWaiters } from './waiters.js';

export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  answered: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Answer the next `count` requests with `status` (and a Retry-After in seconds, if given). */
  failNext(status: number, count: number, retryAfterSeconds?: number): void;
  /** Answer every request with `status`; called without one, answer 204 again. */
  failAlways(status?: number): void;
  waitFor(predicate: (hook: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = createWaiters(received, 'webhook');
  const script: { status: number; retryAfter?: number }[] = [];
  let always: number | undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const next = script.shift() ?? (always ? { status: always } : { status: 204 });
      if (next.retryAfter !== undefined) res.setHeader('retry-after', String(next.retryAfter));
      res.statusCode = next.status;
      res.end();
      received.push({
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered: next.status,
        at: Date.now(),
      });
      waiters.notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failNext(status, count, retryAfter) {
      for (let i = 0; i < count; i++) script.push({ status, retryAfter });
    },
    failAlways(status) {
      always = status;
    },
    waitFor: waiters.waitFor,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
