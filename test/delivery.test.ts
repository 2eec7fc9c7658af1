// Every channel end to end on real parts: API → Temporal workflow → the channel's own task queue →
// a real provider endpoint (SMTP sink, Telegram Bot API fake, HTTPS push service, SMS gateway) →
// PostgreSQL. Failures are injected at the provider, as they happen in production.
import { createPublicKey, verify } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import { statusQuery } from '../src/workflows/definitions.js';
import { deliveryClient } from './support/deliveries.js';
import { recordHistory } from './support/histories.js';
import {
  createBrowserSubscription,
  startPushEndpoint,
  type PushEndpoint,
} from '../tools/fakes/push-endpoint.js';
import { startSmsGateway, type SmsGateway } from '../tools/fakes/sms-gateway.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';
import { startTelegramFake, type TelegramFake } from '../tools/fakes/telegram-fake.js';

const BOT_TOKEN = '123456:TEST-token_abcdefghijklmnopqrstuvwxyz';
const SMS_TOKEN = 'sms-gateway-secret';

describe('delivery on every channel', () => {
  let smtp: SmtpSink;
  let telegram: TelegramFake;
  let push: PushEndpoint;
  let sms: SmsGateway;
  let herald: RunningStack;
  const { createUser, notify, settled, delivery } = deliveryClient(() => herald);

  before(async () => {
    [smtp, telegram, push, sms] = await Promise.all([
      startSmtpSink(),
      startTelegramFake({ token: BOT_TOKEN }),
      startPushEndpoint(),
      startSmsGateway({ token: SMS_TOKEN }),
    ]);
    const vapid = webpush.generateVAPIDKeys();
    const fast = { initialInterval: '200ms', maximumInterval: '2s' };
    herald = await startHerald(
      testEnv({
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_API_URL: telegram.url,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: 'mailto:ops@example.test',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: sms.url,
        SMS_HTTP_TOKEN: SMS_TOKEN,
        DELIVERY_RETRY_POLICIES: JSON.stringify({ email: fast, telegram: fast, push: fast, sms: fast }),
        CHANNEL_RATE_LIMITS: 'telegram=4',
      }),
      { ca: push.ca },
    );
  });
  after(async () => {
    await herald?.stop();
    await Promise.all([smtp?.close(), telegram?.stop(), push?.stop(), sms?.stop()]);
  });

  async function pushUser(extra: Record<string, unknown> = {}) {
    const name = uniqueId('device');
    const browser = createBrowserSubscription(push.endpointUrl(name));
    const user = await createUser(extra);
    const subscription = await herald.db.pushSubscription.create({
      data: {
        userId: user.id,
        endpoint: browser.subscription.endpoint,
        p256dh: browser.subscription.keys.p256dh,
        auth: browser.subscription.keys.auth,
      },
    });
    return { user, browser, subscription, path: new URL(browser.subscription.endpoint).pathname };
  }

  describe('email', () => {
    it('is accepted by the SMTP server: one email, one attempt', async () => {
      const email = `${uniqueId('ok')}@example.test`;
      const user = await createUser({ email });
      const { id } = await notify({ userId: user.id, channels: ['email'] });
      const mail = await smtp.waitFor((m) => m.envelopeTo.includes(email));
      assert.equal(mail.parsed.messageId, `<${id}.email@example.test>`);
      assert.ok(mail.parsed.html && mail.parsed.text, 'both HTML and text parts');
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'email').attempts, 1);
    });

    it('retries 4xx: refused twice, then accepted — one email, three attempts recorded', async () => {
      const email = `${uniqueId('busy')}@example.test`;
      const user = await createUser({ email });
      smtp.failNext(451, 2, email);
      const { id } = await notify({ userId: user.id, channels: ['email'] });
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'email').attempts, 3);
      assert.equal(smtp.messages.filter((m) => m.envelopeTo.includes(email)).length, 1);
      const attempts = await herald.db.deliveryAttempt.findMany({
        where: { delivery: { notificationId: id } },
        orderBy: { attempt: 'asc' },
      });
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.outcome]),
        [
          [1, 'transient_failure'],
          [2, 'transient_failure'],
          [3, 'sent'],
        ],
      );
      assert.match(attempts[0]!.error ?? '', /SMTP 451/);
      await recordHistory(
        herald.temporal.workflow.getHandle(`notification-${id}`),
        'email-transient-then-sent',
      );
    });

    it('fails 5xx at once: no retry, the reason recorded', async () => {
      const email = `${uniqueId('gone')}@example.test`;
      const user = await createUser({ email });
      smtp.failNext(550, 1);
      const { id } = await notify({ userId: user.id, channels: ['email'] });
      const v = await settled(id, 'failed');
      const d = delivery(v, 'email');
      assert.equal(d.status, 'failed');
      assert.equal(d.attempts, 1);
      assert.match(d.lastError ?? '', /SMTP 550/);
      assert.equal(smtp.messages.filter((m) => m.envelopeTo.includes(email)).length, 0);
      const status = await herald.temporal.workflow.getHandle(`notification-${id}`).query(statusQuery);
      assert.equal(status.state, 'awaiting_retry');
      assert.equal(status.channels.email?.permanent, true);
    });
  });

  describe('telegram', () => {
    it('delivers with the user text escaped, never read as markup', async () => {
      const user = await createUser({ telegramChatId: '700001' });
      const { id } = await notify({
        userId: user.id,
        channels: ['telegram'],
        title: 'Deploy <b>done</b>',
        body: 'a < b && c > d <script>x</script>',
      });
      const message = await telegram.waitFor((m) => m.chatId === '700001');
      assert.equal(message.parseMode, 'HTML');
      assert.equal(message.plainText, 'Deploy <b>done</b>\na < b && c > d <script>x</script>');
      await settled(id, 'sent');
    });

    it('honours 429 retry_after before the next attempt', async () => {
      const user = await createUser({ telegramChatId: '700002' });
      telegram.failNext(1, { status: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2 });
      const { id } = await notify({ userId: user.id, channels: ['telegram'] });
      const message = await telegram.waitFor((m) => m.chatId === '700002');
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'telegram').attempts, 2);
      const calls = telegram.requests.filter(
        (r) => r.method === 'sendMessage' && r.params.chat_id === '700002',
      );
      assert.equal(calls.length, 2);
      // The policy's own interval is 200 ms; the provider asked for 2 s.
      assert.ok(message.at - calls[0]!.at >= 1_900, `waited ${message.at - calls[0]!.at} ms`);
    });

    it('records 403 (bot blocked) as permanent', async () => {
      const user = await createUser({ telegramChatId: '700003' });
      telegram.failChat('700003', { status: 403, description: 'Forbidden: bot was blocked by the user' });
      const { id } = await notify({ userId: user.id, channels: ['telegram'] });
      const v = await settled(id, 'failed');
      assert.equal(delivery(v, 'telegram').attempts, 1);
      assert.match(delivery(v, 'telegram').lastError ?? '', /403.*blocked/);
    });

    it('keeps to the channel rate limit (telegram=4 per second here)', async () => {
      const user = await createUser({ telegramChatId: '700004' });
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push((await notify({ userId: user.id, channels: ['telegram'] })).id);
      await Promise.all(ids.map((id) => settled(id, 'sent')));
      const times = telegram.messages.filter((m) => m.chatId === '700004').map((m) => m.at);
      assert.equal(times.length, 12);
      // The server's matcher for priority and fairness (docs/operations.md#priority-and-fairness) keeps
      // the rate with a token bucket that holds up to about two seconds' worth (twelve in 1.3 s measured at
      // the slowest): however the burst falls, twelve sends at four per second need one second or more.
      assert.ok(
        Math.max(...times) - Math.min(...times) >= 950,
        `spread ${Math.max(...times) - Math.min(...times)} ms`,
      );
    });
  });

  describe('push', () => {
    it('sends a body that decrypts to the exact payload, with TTL and topic', async () => {
      const { user, browser, path } = await pushUser();
      const { id } = await notify({
        userId: user.id,
        channels: ['push'],
        title: 'New message',
        body: 'Open to read',
        data: { url: 'https://app.example.test/inbox', thread: 7 },
      });
      const request = await push.waitFor((r) => r.path === path && r.status === 201);
      assert.deepEqual(JSON.parse(browser.decrypt(request.body).toString('utf8')), {
        notificationId: id,
        title: 'New message',
        body: 'Open to read',
        url: 'https://app.example.test/inbox',
        data: { url: 'https://app.example.test/inbox', thread: 7 },
        category: 'updates',
      });
      assert.equal(request.headers.ttl, '86400');
      assert.ok(request.headers.topic && request.headers.topic.length <= 32);
      await settled(id, 'sent');
    });

    it('signs with VAPID for the push service (RFC 8292), and reuses the token for that service', async () => {
      const first = await pushUser();
      const second = await pushUser();
      for (const { user } of [first, second]) await notify({ userId: user.id, channels: ['push'] });
      const [a, b] = await Promise.all(
        [first, second].map(({ path }) => push.waitFor((r) => r.path === path && r.status === 201)),
      );
      const { vapid } = herald.config;
      const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(a!.headers.authorization ?? '');
      assert.ok(match, `a VAPID Authorization header: ${a!.headers.authorization}`);
      const [, token, key] = match;
      assert.equal(key, vapid.publicKey);
      const [header, claims, signature] = token!.split('.') as [string, string, string];
      const raw = Buffer.from(vapid.publicKey!, 'base64url');
      const publicKey = createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: raw.subarray(1, 33).toString('base64url'),
          y: raw.subarray(33, 65).toString('base64url'),
        },
        format: 'jwk',
      });
      assert.ok(
        verify(
          'sha256',
          Buffer.from(`${header}.${claims}`),
          { key: publicKey, dsaEncoding: 'ieee-p1363' },
          Buffer.from(signature, 'base64url'),
        ),
        'the token verifies with VAPID_PUBLIC_KEY',
      );
      const { aud, exp, sub } = JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
        aud: string;
        exp: number;
        sub: string;
      };
      assert.equal(aud, new URL(first.browser.subscription.endpoint).origin);
      assert.equal(sub, vapid.subject);
      const now = Date.now() / 1000;
      assert.ok(
        exp > now + 3600 && exp <= now + 24 * 3600,
        `expires within a day, not within the hour: ${exp}`,
      );
      // The same push service: one signature serves both messages.
      assert.equal(b!.headers.authorization, a!.headers.authorization);
    });

    it('deactivates a subscription that answers 410, and falls back to the next channel when asked', async () => {
      const { user, subscription, path } = await pushUser({ telegramChatId: '700005' });
      push.answerNext(path, 410);
      const { id, workflowId } = await notify({ userId: user.id, channels: ['push'], fallback: true });
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'push').status, 'failed');
      assert.match(delivery(v, 'push').lastError ?? '', /410/);
      assert.equal(delivery(v, 'telegram').status, 'sent');
      await telegram.waitFor((m) => m.chatId === '700005');
      const row = await herald.db.pushSubscription.findUniqueOrThrow({ where: { id: subscription.id } });
      assert.equal(row.active, false);
      assert.ok(row.deactivatedAt);
      const status = await herald.temporal.workflow.getHandle(workflowId).query(statusQuery);
      assert.deepEqual(status.channels.telegram, { state: 'sent', fallbackFor: 'push' });
      await recordHistory(herald.temporal.workflow.getHandle(workflowId), 'push-gone-fallback-telegram');
    });

    it('falls back at once from a requested channel the user has no address for', async () => {
      const email = `${uniqueId('fb')}@example.test`;
      const user = await createUser({ email });
      const { id } = await notify({ userId: user.id, channels: ['sms'], fallback: true });
      await smtp.waitFor((m) => m.envelopeTo.includes(email));
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'sms').status, 'skipped');
      assert.equal(delivery(v, 'email').status, 'sent');
    });
  });

  describe('sms', () => {
    it('delivers through the HTTP gateway', async () => {
      const user = await createUser({ phone: '+14155550101' });
      const { id } = await notify({
        userId: user.id,
        channels: ['sms'],
        title: 'Code',
        body: 'Your code is 1234',
      });
      const message = await sms.waitFor((m) => m.to === '+14155550101');
      assert.equal(message.text, 'Code\nYour code is 1234');
      assert.equal(message.idempotencyKey, `${id}.sms`);
      await settled(id, 'sent');
    });

    it('fails 4xx permanently without retrying', async () => {
      const user = await createUser({ phone: '+14155550102' });
      sms.failNext(1, { status: 400, body: { error: 'number not reachable' } });
      const { id } = await notify({ userId: user.id, channels: ['sms'] });
      const v = await settled(id, 'failed');
      assert.equal(delivery(v, 'sms').attempts, 1);
      assert.match(delivery(v, 'sms').lastError ?? '', /400/);
    });

    it('retries 5xx until the gateway accepts', async () => {
      const user = await createUser({ phone: '+14155550103' });
      sms.failNext(2, { status: 503 });
      const { id } = await notify({ userId: user.id, channels: ['sms'] });
      const v = await settled(id, 'sent');
      assert.equal(delivery(v, 'sms').attempts, 3);
      assert.equal(sms.messages.filter((m) => m.to === '+14155550103').length, 1);
    });
  });

  describe('every channel at once, and templates', () => {
    it('delivers on all four channels in parallel', async () => {
      const email = `${uniqueId('all')}@example.test`;
      const { user, path } = await pushUser({ email, telegramChatId: '700006', phone: '+14155550104' });
      const { id } = await notify({ userId: user.id });
      const v = await settled(id, 'sent');
      assert.deepEqual(v.deliveries.map((d) => [d.channel, d.status]).sort(), [
        ['email', 'sent'],
        ['push', 'sent'],
        ['sms', 'sent'],
        ['telegram', 'sent'],
      ]);
      assert.ok(push.received.some((r) => r.path === path));
      await recordHistory(herald.temporal.workflow.getHandle(`notification-${id}`), 'all-channels');
    });

    it('renders a stored template in the user locale, falling back to the default locale', async () => {
      const key = uniqueId('tpl').toLowerCase();
      for (const [locale, title, body] of [
        ['en', 'Order {{order.id}} shipped', 'Hi {{name}}, it arrives {{eta}}.'],
        ['de', 'Bestellung {{order.id}} versandt', 'Hallo {{name}}, Ankunft {{eta}}.'],
      ]) {
        const res = await herald.api(`/v1/templates/${key}/${locale}`, {
          method: 'PUT',
          json: { title, body },
        });
        assert.equal(res.status, 201, await res.clone().text());
      }
      const data = { order: { id: 'A-17' }, name: 'Ada <3', eta: 'Monday' };
      const german = `${uniqueId('de')}@example.test`;
      const french = `${uniqueId('fr')}@example.test`;
      const de = await createUser({ email: german, locale: 'de-AT' });
      const fr = await createUser({ email: french, locale: 'fr' });
      for (const u of [de, fr]) {
        const res = await herald.api('/v1/notifications', {
          json: { userId: u.id, category: 'orders', template: key, data, channels: ['email'] },
        });
        assert.equal(res.status, 202, await res.clone().text());
      }
      const deMail = await smtp.waitFor((m) => m.envelopeTo.includes(german));
      assert.equal(deMail.parsed.subject, 'Bestellung A-17 versandt');
      assert.equal(deMail.parsed.text?.trim(), 'Hallo Ada <3, Ankunft Monday.');
      assert.match(String(deMail.parsed.html), /Hallo Ada &lt;3/);
      const frMail = await smtp.waitFor((m) => m.envelopeTo.includes(french));
      assert.equal(frMail.parsed.subject, 'Order A-17 shipped');

      const unknown = await herald.api('/v1/notifications', {
        json: { userId: de.id, category: 'orders', template: 'no-such-template' },
      });
      assert.equal(unknown.status, 422);
      const neither = await herald.api('/v1/notifications', { json: { userId: de.id, category: 'orders' } });
      assert.equal(neither.status, 422);
      const fields = ((await neither.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
      assert.deepEqual(fields.sort(), ['body', 'title']);
    });

    it('records a skipped notification when the user opted out of everything', async () => {
      const user = await createUser({ email: `${uniqueId('out')}@example.test`, telegramChatId: '700007' });
      await herald.db.preference.create({
        data: { userId: user.id, category: '*', channel: '*', enabled: false },
      });
      const { id } = await notify({ userId: user.id });
      const v = await settled(id, 'skipped');
      assert.deepEqual(v.deliveries.map((d) => [d.channel, d.status]).sort(), [
        ['email', 'skipped'],
        ['telegram', 'skipped'],
      ]);
      // A mandatory category ignores the opt-out, but never invents a contact the user lacks.
      const security = await notify({ userId: user.id, category: 'security' });
      const sv = await settled(security.id, 'sent');
      assert.deepEqual(sv.deliveries.map((d) => d.channel).sort(), ['email', 'telegram']);
      await recordHistory(herald.temporal.workflow.getHandle(`notification-${id}`), 'skipped-opted-out');
    });
  });
});

describe('email through the fallback SMTP server', () => {
  let fallback: SmtpSink;
  let herald: RunningStack;
  const { createUser, notify, settled, delivery } = deliveryClient(() => herald);

  before(async () => {
    fallback = await startSmtpSink();
    const down = await startSmtpSink();
    await down.close(); // a port nobody listens on any more: the primary is down
    herald = await startHerald(
      testEnv({
        SMTP_URL: down.url,
        SMTP_FALLBACK_URL: fallback.url,
        MAIL_FROM: 'Herald <herald@example.test>',
      }),
    );
  });
  after(async () => {
    await herald?.stop();
    await fallback?.close();
  });

  it('sends through the second server when the first is down, in the same attempt', async () => {
    const email = `${uniqueId('fallback')}@example.test`;
    const user = await createUser({ email });
    const { id } = await notify({ userId: user.id, channels: ['email'] });
    await fallback.waitFor((m) => m.envelopeTo.includes(email));
    const v = await settled(id, 'sent');
    assert.equal(delivery(v, 'email').attempts, 1);
  });

  it('fails permanently when the fallback server refuses the address (5xx)', async () => {
    const email = `${uniqueId('refused')}@example.test`;
    const user = await createUser({ email });
    fallback.failNext(550, 1);
    const { id } = await notify({ userId: user.id, channels: ['email'] });
    const v = await settled(id, 'failed');
    assert.match(delivery(v, 'email').lastError ?? '', /550/);
  });
});
