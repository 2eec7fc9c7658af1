// A fake of Twilio's Programmable Messaging API over real HTTP: `POST /2010-04-01/Accounts/<sid>/Messages.json`
// with basic auth, answering as Twilio does (201 with the Message resource, or Twilio's error JSON), and
// Twilio's status callbacks, signed as Twilio signs them, POSTed to the StatusCallback each message gave.
// Its signing is written from Twilio's documentation, not taken from Herald, so tests check one against
// the other.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWaiters } from './waiters.js';

/** A message Twilio accepted. */
export interface TwilioMessage {
  sid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback?: string;
  /** When it was accepted (Date.now()). */
  at: number;
}

/** Every request, whatever the answer: for asserting on the form and headers, or that nothing was sent. */
export interface TwilioRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  params: URLSearchParams;
  status: number;
  at: number;
}

/** An answer to force: an HTTP status, Twilio's error code and message, a Retry-After header. */
export interface TwilioFault {
  status: number;
  code?: number;
  message?: string;
  retryAfter?: number | string;
}

export type TwilioStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read';

export interface StatusCallbackOptions {
  /** Twilio's ErrorCode, for `undelivered` and `failed`. */
  errorCode?: number | string;
  /** In place of the signature Twilio would send; null sends none. */
  signature?: string | null;
  /** Changes the form after it was signed: what an attacker altering a real callback would do. */
  tamper?: (params: URLSearchParams) => void;
}

/** A status callback the fake sent, and what the receiver answered. */
export interface SentCallback {
  sid: string;
  status: TwilioStatus;
  /** The X-Twilio-Signature header it carried, if any. */
  signature?: string;
  answer: number;
}

export interface TwilioFake {
  /** TWILIO_API_URL. */
  url: string;
  accountSid: string;
  authToken: string;
  messages: TwilioMessage[];
  requests: TwilioRequest[];
  callbacks: SentCallback[];
  /** Answer the next `times` requests with this, whatever they contain, before checking anything. */
  failNext(times: number, fault: TwilioFault): void;
  /** The number replied STOP: every message to it gets 21610 from now on. */
  optOut(phone: string): void;
  /**
   * Messages to this number are accepted at once (a status callback can name them) but their 201 answer
   * waits until the returned function is called: Twilio's callback beating the send's record.
   */
  holdAnswersTo(phone: string): () => void;
  waitFor(predicate: (message: TwilioMessage) => boolean, timeoutMs?: number): Promise<TwilioMessage>;
  /** POSTs Twilio's status callback for the message to its StatusCallback; resolves with the answer. */
  sendStatus(
    sid: string,
    status: TwilioStatus,
    options?: StatusCallbackOptions,
  ): Promise<{ status: number; body: string }>;
  /** Forget messages, requests, callbacks, opt-outs, pending faults and held answers. */
  reset(): void;
  stop(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const SENDER = /^(\+[1-9]\d{6,14}|\d{3,8}|[A-Za-z0-9 ]{1,11})$/;
const MESSAGING_SERVICE = /^MG[0-9a-f]{32}$/i;
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const MAX_BODY = 1600;

const sidOf = (prefix: string) => prefix + randomBytes(16).toString('hex');
/** Twilio's dates are RFC 2822. */
const rfc2822 = (date: Date) => date.toUTCString().replace('GMT', '+0000');

/** Twilio's signature, from its documentation: HMAC-SHA1 of the URL and the sorted name+value pairs. */
function sign(authToken: string, url: string, params: URLSearchParams): string {
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const pairs = [...params].sort(([a, x], [b, y]) => order(a, b) || order(x, y));
  const data = url + pairs.map(([name, value]) => name + value).join('');
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

interface Answer {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

const twilioError = (status: number, code: number, message: string): Answer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

export async function startTwilioFake(
  options: { accountSid?: string; authToken?: string } = {},
): Promise<TwilioFake> {
  const accountSid = options.accountSid ?? sidOf('AC');
  const authToken = options.authToken ?? randomBytes(16).toString('hex');
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const messages: TwilioMessage[] = [];
  const requests: TwilioRequest[] = [];
  const callbacks: SentCallback[] = [];
  const faults: TwilioFault[] = [];
  const optedOut = new Set<string>();
  const heldAnswers = new Map<string, { answer: Promise<void>; release: () => void }>();
  const arrivals = createWaiters(messages, 'message reached the Twilio fake');

  function answer(req: http.IncomingMessage, params: URLSearchParams): Answer {
    const fault = faults.shift();
    if (fault) {
      const code = fault.code ?? fault.status;
      const failure = twilioError(
        fault.status,
        code,
        fault.message ?? http.STATUS_CODES[fault.status] ?? 'fault',
      );
      if (fault.retryAfter !== undefined) failure.headers = { 'retry-after': String(fault.retryAfter) };
      return failure;
    }
    if (req.headers.authorization !== expectedAuth) {
      return {
        ...twilioError(401, 20003, 'Authenticate'),
        headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
      };
    }
    const match = MESSAGES_PATH.exec(new URL(req.url ?? '/', 'http://twilio').pathname);
    if (!match || decodeURIComponent(match[1]!) !== accountSid)
      return twilioError(404, 20404, `The requested resource ${req.url} was not found`);
    if (req.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');

    const to = params.get('To');
    const from = params.get('From') ?? undefined;
    const messagingServiceSid = params.get('MessagingServiceSid') ?? undefined;
    const body = params.get('Body');
    const statusCallback = params.get('StatusCallback') ?? undefined;
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !messagingServiceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (from && !SENDER.test(from)) return twilioError(400, 21212, `The 'From' number ${from} is not valid.`);
    if (messagingServiceSid && !MESSAGING_SERVICE.test(messagingServiceSid))
      return twilioError(400, 21701, 'The Messaging Service Sid is invalid.');
    if (!body) return twilioError(400, 21602, 'Message body is required.');
    if (body.length > MAX_BODY)
      return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (statusCallback && !/^https?:\/\/[^\s]+$/.test(statusCallback))
      return twilioError(400, 21609, 'The StatusCallback URL is not valid.');
    if (optedOut.has(to)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');

    const message: TwilioMessage = {
      sid: sidOf('SM'),
      to,
      from,
      messagingServiceSid,
      body,
      statusCallback,
      at: Date.now(),
    };
    messages.push(message);
    arrivals.notify();
    const now = rfc2822(new Date());
    return {
      status: 201,
      body: {
        sid: message.sid,
        account_sid: accountSid,
        messaging_service_sid: messagingServiceSid ?? null,
        from: from ?? null,
        to,
        body,
        status: messagingServiceSid && !from ? 'accepted' : 'queued',
        num_segments: '1',
        num_media: '0',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        date_created: now,
        date_updated: now,
        date_sent: null,
        error_code: null,
        error_message: null,
        price: null,
        price_unit: 'USD',
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}/Media.json` },
      },
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const isForm = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
      const params = new URLSearchParams(isForm ? Buffer.concat(chunks).toString('utf8') : '');
      const reply = answer(req, params);
      if (reply.status === 201) await heldAnswers.get(params.get('To') ?? '')?.answer;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        params,
        status: reply.status,
        at: Date.now(),
      });
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  async function sendStatus(sid: string, status: TwilioStatus, callback: StatusCallbackOptions = {}) {
    const message = messages.find((m) => m.sid === sid);
    if (!message?.statusCallback) throw new Error(`the Twilio fake has no StatusCallback for ${sid}`);
    const params = new URLSearchParams({
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: message.to,
      ...(message.from ? { From: message.from } : {}),
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
      ...(callback.errorCode !== undefined ? { ErrorCode: String(callback.errorCode) } : {}),
    });
    const signature =
      callback.signature === undefined ? sign(authToken, message.statusCallback, params) : callback.signature;
    callback.tamper?.(params);
    const response = await fetch(message.statusCallback, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'user-agent': 'TwilioProxy/1.1',
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
        ...(signature === null ? {} : { 'x-twilio-signature': signature }),
      },
      body: params.toString(),
    });
    const body = await response.text();
    callbacks.push({ sid, status, signature: signature ?? undefined, answer: response.status });
    return { status: response.status, body };
  }

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    requests,
    callbacks,
    failNext(times, fault) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    optOut(phone) {
      optedOut.add(phone);
    },
    holdAnswersTo(phone) {
      let resolve!: () => void;
      const answer = new Promise<void>((done) => (resolve = done));
      const release = () => {
        heldAnswers.delete(phone);
        resolve();
      };
      heldAnswers.set(phone, { answer, release });
      return release;
    },
    waitFor: arrivals.waitFor,
    sendStatus,
    reset() {
      messages.length = 0;
      requests.length = 0;
      callbacks.length = 0;
      faults.length = 0;
      optedOut.clear();
      for (const { release } of [...heldAnswers.values()]) release();
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
