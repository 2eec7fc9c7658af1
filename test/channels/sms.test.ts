// The SMS channel over real HTTP against a local gateway speaking the `http` provider contract.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  parseRetryAfter,
  PermanentChannelError,
  type ChannelContext,
  type ChannelProvider,
  type OutgoingMessage,
  type Recipient,
} from '../../src/activities/channels/channel.js';
import { countSegments } from '../../src/activities/channels/sms/text.js';
import { classifySmsError, createSmsChannel, smsChannel } from '../../src/activities/channels/sms/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { freePort } from '../../tools/local-stack/ports.js';
import { createLogger } from '../../src/platform/logger.js';
import { startSmsGateway, type SmsGateway } from '../../tools/fakes/sms-gateway.js';

const TOKEN = 'sms-test-token';
const PHONE = '+14155550123';

const recipient = (phone: string | null = PHONE): Recipient => ({
  id: 'u-1',
  contacts: phone === null ? {} : { sms: phone },
  locale: 'en',
  linkVersion: 0,
  pushSubscriptions: [],
});

const message = (fields: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  notificationId: 'n-1',
  category: 'billing',
  title: 'Invoice paid',
  body: 'Thank you.',
  data: {},
  ...fields,
});

/** Sends expecting a failure, and returns how the channel classifies it. */
async function failureOf(channel: ChannelProvider, to: Recipient = recipient(), sent = message()) {
  const error = await channel.send(to, sent).then(
    () => assert.fail('the send succeeded'),
    (e: unknown) => e,
  );
  return channel.classify(error);
}

describe('SMS channel (http provider)', () => {
  let gateway: SmsGateway;
  let channel: ChannelProvider;

  before(async () => {
    gateway = await startSmsGateway({ token: TOKEN });
    channel = createSmsChannel({ url: gateway.url, token: TOKEN, maxSegments: 3 });
  });
  beforeEach(() => gateway.reset());
  after(async () => {
    await channel?.close();
    await gateway?.stop();
  });

  it('delivers { to, text } with the bearer token and an idempotency key, and returns the id', async () => {
    const result = await channel.send(recipient(), message());
    assert.equal(gateway.messages.length, 1);
    const [sent] = gateway.messages;
    assert.deepEqual(sent, {
      id: result.providerMessageId,
      to: PHONE,
      text: 'Invoice paid\nThank you.',
      idempotencyKey: 'n-1.sms',
    });
    const [request] = gateway.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['idempotency-key'], 'n-1.sms');
    assert.deepEqual(JSON.parse(request!.body), { to: PHONE, text: 'Invoice paid\nThank you.' });
  });

  it('cuts a long notification to the configured number of parts', async () => {
    await channel.send(recipient(), message({ body: 'All the news that fits. '.repeat(100) }));
    const text = gateway.messages[0]!.text;
    assert.equal(countSegments(text), 3);
    assert.ok(text.endsWith('...'), text);
  });

  it('tolerates a 2xx answer without an id', async () => {
    gateway.failNext(1, { status: 202, body: 'queued' });
    assert.deepEqual(await channel.send(recipient(), message()), { providerMessageId: undefined });
  });

  it('treats 400 as permanent, with the gateway’s reason', async () => {
    gateway.failNext(1, { status: 400, body: { error: 'unknown destination network' } });
    assert.deepEqual(await failureOf(channel), {
      permanent: true,
      reason: 'SMS gateway 400: unknown destination network',
    });
  });

  it('uses a plain-text error body, whitespace collapsed, and keeps phone numbers out of it', async () => {
    gateway.failNext(1, { status: 422, body: `number ${PHONE}\n  is barred (also 14155550123)` });
    const failure = await failureOf(channel);
    assert.deepEqual(failure, {
      permanent: true,
      reason: 'SMS gateway 422: number [phone] is barred (also [phone])',
    });
  });

  it('treats 500 as transient, and the next attempt goes through', async () => {
    gateway.failNext(1, { status: 500 });
    assert.deepEqual(await failureOf(channel), {
      permanent: false,
      reason: 'SMS gateway 500: Internal Server Error',
    });
    await channel.send(recipient(), message());
    assert.equal(gateway.messages.length, 1);
  });

  it('treats 408 as transient', async () => {
    gateway.failNext(1, { status: 408 });
    assert.equal((await failureOf(channel)).permanent, false);
  });

  it('treats 429 as transient and honours Retry-After in seconds', async () => {
    gateway.failNext(1, { status: 429, body: { error: 'slow down' }, retryAfter: 3 });
    assert.deepEqual(await failureOf(channel), {
      permanent: false,
      reason: 'SMS gateway 429: slow down',
      retryAfterMs: 3000,
    });
  });

  it('honours Retry-After as an HTTP date on 503', async () => {
    gateway.failNext(1, { status: 503, retryAfter: new Date(Date.now() + 120_000).toUTCString() });
    const failure = await failureOf(channel);
    assert.equal(failure.permanent, false);
    assert.ok(
      failure.retryAfterMs! > 115_000 && failure.retryAfterMs! <= 120_000,
      String(failure.retryAfterMs),
    );
  });

  it('rejects a wrong token with a permanent 401 that names the setting', async () => {
    const wrong = createSmsChannel({ url: gateway.url, token: 'not-the-token', maxSegments: 3 });
    assert.deepEqual(await failureOf(wrong), {
      permanent: true,
      reason: 'SMS gateway 401: invalid token (check SMS_HTTP_TOKEN)',
    });
    assert.equal(gateway.messages.length, 0);
  });

  for (const phone of ['4155550123', '+141555', '+0123456789', '+1 415 555 0123', '+1234567890123456']) {
    it(`fails ${phone} as an invalid phone number without calling the gateway`, async () => {
      assert.deepEqual(await failureOf(channel, recipient(phone)), {
        permanent: true,
        reason: 'invalid phone number',
      });
      assert.equal(gateway.requests.length, 0);
    });
  }

  it('fails a recipient without a phone number permanently', async () => {
    const error = await channel.send(recipient(null), message()).catch((e: unknown) => e);
    assert.ok(error instanceof PermanentChannelError);
    assert.equal(gateway.requests.length, 0);
  });

  it('treats a refused connection as transient', async () => {
    const nowhere = createSmsChannel({
      url: `http://127.0.0.1:${await freePort()}/messages`,
      maxSegments: 3,
    });
    assert.deepEqual(await failureOf(nowhere), {
      permanent: false,
      reason: 'SMS gateway unreachable: ECONNREFUSED',
    });
  });

  it('treats a gateway that does not answer in time as transient', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const slow = createSmsChannel({ url: `http://127.0.0.1:${port}/`, maxSegments: 3, timeoutMs: 200 });
      assert.deepEqual(await failureOf(slow), { permanent: false, reason: 'SMS gateway timed out' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('is created from the configuration and sends through the registry definition', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://herald@127.0.0.1:5432/herald',
      SMS_PROVIDER: 'http',
      SMS_HTTP_URL: gateway.url,
      SMS_HTTP_TOKEN: TOKEN,
      SMS_MAX_SEGMENTS: '1',
    });
    assert.equal(smsChannel.channel, 'sms');
    assert.equal(smsChannel.isConfigured(config), true);
    assert.equal(smsChannel.isConfigured({ ...config, sms: { ...config.sms, provider: undefined } }), false);
    assert.equal(smsChannel.hasAddress(recipient()), true);
    assert.equal(smsChannel.hasAddress(recipient(null)), false);

    const context = { logger: createLogger('sms-test', 'silent') } as ChannelContext; // no database needed
    const provider = smsChannel.create(config, context);
    try {
      await provider.send(recipient(), message({ body: 'x'.repeat(500) }));
      assert.equal(countSegments(gateway.messages[0]!.text), 1);
    } finally {
      await provider.close();
    }
  });
});

describe('classifySmsError', () => {
  it('keeps PermanentChannelError permanent and unknown errors transient', () => {
    assert.deepEqual(classifySmsError(new PermanentChannelError('invalid phone number')), {
      permanent: true,
      reason: 'invalid phone number',
    });
    assert.deepEqual(classifySmsError(new Error('the SMS channel was closed during the send')), {
      permanent: false,
      reason: 'the SMS channel was closed during the send',
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates, clamped to [0, 1 h]', () => {
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('86400', now), 3_600_000);
  });
  it('ignores what is neither', () => {
    for (const value of [null, '', '1.5', '-3', 'soon']) assert.equal(parseRetryAfter(value, now), undefined);
  });
});
