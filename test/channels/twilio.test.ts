// The SMS channel's Twilio provider over real HTTP against the Twilio fake, and Twilio's status-callback
// signature and receipts without a server.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type {
  ChannelContext,
  ChannelProvider,
  OutgoingMessage,
  Recipient,
} from '../../src/activities/channels/channel.js';
import { smsChannel } from '../../src/activities/channels/sms/index.js';
import {
  classifyTwilioError,
  createTwilioSms,
  isSignedByTwilio,
  receiptOf,
  twilioSignature,
} from '../../src/activities/channels/sms/twilio/index.js';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { freePort } from '../../tools/local-stack/ports.js';
import { startTwilioFake, type TwilioFake } from '../../tools/fakes/twilio.js';

const PHONE = '+14155550123';
const FROM = '+14155550000';
const CALLBACK = 'https://herald.example.test/providers/twilio/status';

const recipient = (phone = PHONE): Recipient => ({
  id: 'u-1',
  contacts: { sms: phone },
  locale: 'en',
  linkVersion: 0,
  pushSubscriptions: [],
});
const message: OutgoingMessage = {
  notificationId: 'n-1',
  category: 'billing',
  title: 'Invoice paid',
  body: 'Thank you.',
  data: {},
};

async function failureOf(channel: ChannelProvider) {
  const error = await channel.send(recipient(), message).then(
    () => assert.fail('the send succeeded'),
    (e: unknown) => e,
  );
  return channel.classify(error);
}

describe('SMS channel (twilio provider)', () => {
  let twilio: TwilioFake;
  let channel: ChannelProvider;
  const create = (overrides: Partial<Parameters<typeof createTwilioSms>[0]> = {}) =>
    createTwilioSms({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: FROM,
      apiUrl: twilio.url,
      statusCallback: CALLBACK,
      maxSegments: 3,
      ...overrides,
    });

  before(async () => {
    twilio = await startTwilioFake();
    channel = create();
  });
  beforeEach(() => twilio.reset());
  after(async () => {
    await channel?.close();
    await twilio?.stop();
  });

  it('POSTs the form with basic auth and a StatusCallback, and keeps the Message SID', async () => {
    const { providerMessageId } = await channel.send(recipient(), message);
    const [request] = twilio.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`);
    assert.equal(
      request?.headers.authorization,
      `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
    );
    assert.match(request?.headers['content-type'] ?? '', /^application\/x-www-form-urlencoded/);
    assert.deepEqual(Object.fromEntries(request!.params), {
      To: PHONE,
      From: FROM,
      Body: 'Invoice paid\nThank you.',
      StatusCallback: CALLBACK,
    });
    assert.match(providerMessageId ?? '', /^SM[0-9a-f]{32}$/);
    assert.equal(twilio.messages[0]?.sid, providerMessageId);
  });

  it('sends through a Messaging Service, with or without a sender', async () => {
    const service = `MG${'ab'.repeat(16)}`;
    const viaService = create({ from: undefined, messagingServiceSid: service });
    await viaService.send(recipient(), message);
    assert.equal(twilio.requests[0]?.params.get('MessagingServiceSid'), service);
    assert.equal(twilio.requests[0]?.params.has('From'), false);
    assert.equal(twilio.messages.length, 1);
  });

  for (const [code, what] of [
    [21211, 'an invalid number'],
    [21614, 'a number that cannot take SMS'],
    [21610, 'a recipient who replied STOP'],
  ] as const) {
    it(`fails ${code} (${what}) for good, with Twilio's code and message`, async () => {
      twilio.failNext(1, { status: 400, code, message: `refused ${PHONE}` });
      assert.deepEqual(await failureOf(channel), {
        permanent: true,
        reason: `Twilio ${code}: refused [phone]`,
      });
    });
  }

  it('answers an opted-out number with 21610 and keeps the number out of the reason', async () => {
    twilio.optOut(PHONE);
    const failure = await failureOf(channel);
    assert.equal(failure.permanent, true);
    assert.match(failure.reason, /^Twilio 21610: /);
    assert.doesNotMatch(failure.reason, /4155550123/);
  });

  it("retries 429 and Twilio's 20429, honouring Retry-After", async () => {
    twilio.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 3 });
    assert.deepEqual(await failureOf(channel), {
      permanent: false,
      reason: 'Twilio 20429: Too Many Requests',
      retryAfterMs: 3000,
    });
    // 20429 decides even when the HTTP status says less.
    twilio.failNext(1, { status: 400, code: 20429, message: 'Too Many Requests' });
    assert.equal((await failureOf(channel)).permanent, false);
  });

  it('retries 5xx, with or without Twilio’s JSON, and the next attempt goes through', async () => {
    twilio.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    assert.deepEqual(await failureOf(channel), {
      permanent: false,
      reason: 'Twilio 20500: Internal Server Error',
    });
    twilio.failNext(1, { status: 503, retryAfter: 7 });
    assert.deepEqual(await failureOf(channel), {
      permanent: false,
      reason: 'Twilio 503: Service Unavailable',
      retryAfterMs: 7000,
    });
    await channel.send(recipient(), message);
    assert.equal(twilio.messages.length, 1);
  });

  it('fails wrong credentials (401, 20003) for good, naming the settings', async () => {
    const wrong = create({ authToken: 'not-the-token' });
    assert.deepEqual(await failureOf(wrong), {
      permanent: true,
      reason: 'Twilio 20003: Authenticate (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)',
    });
    assert.equal(twilio.messages.length, 0);
  });

  it('treats a refused connection as transient', async () => {
    const nowhere = create({ apiUrl: `http://127.0.0.1:${await freePort()}` });
    assert.deepEqual(await failureOf(nowhere), {
      permanent: false,
      reason: 'Twilio unreachable: ECONNREFUSED',
    });
  });

  it('stops waiting for Twilio when its delivery attempt aborts', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const hanging = create({ apiUrl: `http://127.0.0.1:${port}` });
      const started = Date.now();
      const attempt = { signal: AbortSignal.timeout(200), deadline: started + 200 };
      const error = await hanging.send(recipient(), message, attempt).catch((e: unknown) => e);
      assert.ok(Date.now() - started < 5_000, 'the send outlived its attempt');
      assert.equal(hanging.classify(error).permanent, false);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('is chosen by SMS_PROVIDER=twilio and asks for callbacks at PUBLIC_URL', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://herald@127.0.0.1:5432/herald',
      PUBLIC_URL: 'https://herald.example.test/',
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: 'Herald',
      TWILIO_API_URL: twilio.url,
    });
    assert.equal(smsChannel.isConfigured(config), true);
    const provider = smsChannel.create(config, {
      logger: createLogger('twilio-test', 'silent'),
    } as ChannelContext);
    try {
      await provider.send(recipient(), message);
      assert.equal(twilio.requests[0]?.params.get('StatusCallback'), CALLBACK);
      assert.equal(twilio.requests[0]?.params.get('From'), 'Herald');
    } finally {
      await provider.close();
    }
  });
});

describe('Twilio settings', () => {
  const base = { DATABASE_URL: 'postgres://herald@127.0.0.1:5432/herald', SMS_PROVIDER: 'twilio' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.map((p) => p.variable);
    }
  };

  it('needs the account, the token, and a sender or a Messaging Service', () => {
    assert.deepEqual(problems({}), ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']);
    assert.deepEqual(
      problems({
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_FROM: '+15005550006',
      }),
      [],
    );
  });

  it('refuses malformed SIDs and senders', () => {
    assert.deepEqual(
      problems({
        TWILIO_ACCOUNT_SID: 'AC123',
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_MESSAGING_SERVICE_SID: 'MG1',
        TWILIO_FROM: 'a sender far too long',
      }),
      ['TWILIO_ACCOUNT_SID', 'TWILIO_FROM', 'TWILIO_MESSAGING_SERVICE_SID'],
    );
  });
});

describe("Twilio's status-callback signature", () => {
  // Twilio's documented example (its security guide and its libraries' tests).
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = new URLSearchParams({
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675310',
    Digits: '1234',
    From: '+14158675310',
    To: '+18005551212',
  });

  it("matches Twilio's documented example", () => {
    assert.equal(twilioSignature('12345', url, params), 'GvWf1cFY/Q7PnoempGyD5oXAezc=');
    assert.equal(isSignedByTwilio('12345', url, params, 'GvWf1cFY/Q7PnoempGyD5oXAezc='), true);
  });

  it('refuses another token, URL, parameter or signature, and no signature at all', () => {
    const signature = twilioSignature('12345', url, params);
    assert.equal(isSignedByTwilio('54321', url, params, signature), false);
    assert.equal(isSignedByTwilio('12345', url.replace('foo=1', 'foo=2'), params, signature), false);
    const altered = new URLSearchParams(params);
    altered.set('Digits', '1235');
    assert.equal(isSignedByTwilio('12345', url, altered, signature), false);
    const added = new URLSearchParams(params);
    added.append('Extra', '');
    assert.equal(isSignedByTwilio('12345', url, added, signature), false);
    assert.equal(isSignedByTwilio('12345', url, params, signature.slice(0, -1)), false);
    assert.equal(isSignedByTwilio('12345', url, params, undefined), false);
  });

  it('accepts the URL signed with or without its default port', () => {
    const plain = 'https://herald.example.test/providers/twilio/status';
    const withPort = 'https://herald.example.test:443/providers/twilio/status';
    assert.equal(isSignedByTwilio('t', plain, params, twilioSignature('t', withPort, params)), true);
    assert.equal(isSignedByTwilio('t', withPort, params, twilioSignature('t', plain, params)), true);
    const other = 'https://herald.example.test:8443/providers/twilio/status';
    assert.equal(isSignedByTwilio('t', plain, params, twilioSignature('t', other, params)), false);
  });
});

describe('receipts from status callbacks', () => {
  const callback = (fields: Record<string, string>) => receiptOf(new URLSearchParams(fields));

  it('delivered (and read) confirm the delivery', () => {
    assert.deepEqual(callback({ MessageSid: 'SM1', MessageStatus: 'delivered' }), {
      providerMessageId: 'SM1',
      status: 'delivered',
    });
    assert.equal(callback({ MessageSid: 'SM1', MessageStatus: 'read' })?.status, 'delivered');
  });

  it('undelivered and failed report the failure with the error code', () => {
    assert.deepEqual(callback({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30003' }), {
      providerMessageId: 'SM1',
      status: 'undelivered',
      reason: 'Twilio undelivered: error 30003 (unreachable destination handset)',
    });
    assert.equal(
      callback({ SmsSid: 'SM1', SmsStatus: 'failed', ErrorCode: '30999' })?.reason,
      'Twilio failed: error 30999',
    );
    assert.equal(
      callback({ MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: '<b>' })?.reason,
      'Twilio failed: no error code given',
    );
  });

  it('the steps before delivery, and forms without a SID or status, settle nothing', () => {
    for (const status of ['accepted', 'queued', 'sending', 'sent', 'scheduled', 'canceled'])
      assert.equal(callback({ MessageSid: 'SM1', MessageStatus: status }), undefined, status);
    assert.equal(callback({ MessageStatus: 'delivered' }), undefined);
    assert.equal(callback({ MessageSid: 'SM1' }), undefined);
  });
});

describe('classifyTwilioError', () => {
  it('keeps an unforeseen error transient', () => {
    assert.deepEqual(classifyTwilioError(new Error('the SMS channel was closed during the send')), {
      permanent: false,
      reason: 'the SMS channel was closed during the send',
    });
  });
});
