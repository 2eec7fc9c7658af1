// A local Web Push service over real HTTPS (web-push only speaks HTTPS), and browser-side subscriptions
// whose private keys decrypt what it received: enough to check a push end to end without a browser.
import { createECDH, randomBytes } from 'node:crypto';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from './tls.js';
import { createWaiters } from './waiters.js';

// http_ece ships no types; this is the one call the tests need.
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(
    buffer: Buffer,
    params: { version: 'aes128gcm'; privateKey: ReturnType<typeof createECDH>; authSecret: string },
  ): Buffer;
};

export interface PushRequest {
  path: string;
  /** The Web Push headers as sent (RFC 8030, RFC 8291, RFC 8292). */
  headers: {
    ttl?: string;
    topic?: string;
    urgency?: string;
    contentEncoding?: string;
    authorization?: string;
  };
  body: Buffer;
  /** The status the endpoint answered with. */
  status: number;
  /** `Date.now()` when the request's body had arrived. */
  at: number;
}

export interface PushAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface PushEndpoint {
  /** The self-signed certificate (PEM), to trust as a CA. */
  ca: string;
  /** An HTTPS agent that trusts `ca`. */
  agent: https.Agent;
  origin: string;
  /** A subscription endpoint URL on this service; the name makes it unique. */
  endpointUrl(name: string): string;
  received: PushRequest[];
  /**
   * Answer the next `times` requests to one endpoint (its URL or path), or to any endpoint with 'all',
   * with this status (and headers, body) instead of 201 Created.
   */
  answerNext(target: string, answer: number | PushAnswer, times?: number): void;
  waitFor(predicate: (request: PushRequest) => boolean, timeoutMs?: number): Promise<PushRequest>;
  stop(): Promise<void>;
}

export async function startPushEndpoint(): Promise<PushEndpoint> {
  const { key, cert } = await selfSignedCertificate();
  const received: PushRequest[] = [];
  const arrivals = createWaiters(received, 'request reached the push endpoint');
  const answers: { path: string; answer: PushAnswer }[] = [];
  let messages = 0;

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const requestPath = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      const index = answers.findIndex((a) => a.path === 'all' || a.path === requestPath);
      const answer = index >= 0 ? answers.splice(index, 1)[0]!.answer : undefined;
      const status = answer?.status ?? 201;
      const header = (name: string) => req.headers[name] as string | undefined;
      received.push({
        path: requestPath,
        headers: {
          ttl: header('ttl'),
          topic: header('topic'),
          urgency: header('urgency'),
          contentEncoding: header('content-encoding'),
          authorization: header('authorization'),
        },
        body: Buffer.concat(chunks),
        status,
        at: Date.now(),
      });
      // As RFC 8030 says: 201 with the message's own URL in Location.
      const headers = answer ? (answer.headers ?? {}) : { location: `${origin}/message/${++messages}` };
      res.writeHead(status, headers).end(answer?.body ?? '');
      arrivals.notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: cert, keepAlive: true });
  const pathOf = (target: string) => (target === 'all' ? 'all' : new URL(target, origin).pathname);

  return {
    ca: cert,
    agent,
    origin,
    endpointUrl: (name) => `${origin}/push/${encodeURIComponent(name)}`,
    received,
    answerNext(target, answer, times = 1) {
      const full = typeof answer === 'number' ? { status: answer } : answer;
      for (let i = 0; i < times; i++) answers.push({ path: pathOf(target), answer: full });
    },
    waitFor: arrivals.waitFor,
    async stop() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What `JSON.stringify(pushSubscription)` gives in a browser. */
export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface BrowserSubscription {
  subscription: PushSubscriptionJson;
  /** Decrypts an aes128gcm push body (RFC 8291) with this subscription's private key. */
  decrypt(body: Buffer): Buffer;
}

/** What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret. */
export function createBrowserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1');
  const p256dh = ecdh.generateKeys().toString('base64url');
  const auth = randomBytes(16).toString('base64url');
  return {
    subscription: { endpoint, expirationTime: null, keys: { p256dh, auth } },
    // aes128gcm carries the sender's public key in its header, so no `dh` is needed here.
    decrypt: (body) => ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }),
  };
}
