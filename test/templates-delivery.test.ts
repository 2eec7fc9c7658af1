// Stored templates delivered end to end: one rendering (Handlebars, plain text) escaped once by each channel
// for its own format, loops over a digest's items, and text that does not compile refused when stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveryClient } from './support/deliveries.js';
import { startSmsGateway, type SmsGateway } from '../tools/fakes/sms-gateway.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { startTelegramFake, type TelegramFake } from '../tools/fakes/telegram-fake.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

const BOT_TOKEN = '123456:TEST-token_abcdefghijklmnopqrstuvwxyz';
const SMS_TOKEN = 'sms-gateway-secret';

describe('templates delivered on email, SMS and Telegram', () => {
  let smtp: SmtpSink;
  let sms: SmsGateway;
  let telegram: TelegramFake;
  let herald: RunningStack;
  const { createUser, settled } = deliveryClient(() => herald);

  before(async () => {
    [smtp, sms, telegram] = await Promise.all([
      startSmtpSink(),
      startSmsGateway({ token: SMS_TOKEN }),
      startTelegramFake({ token: BOT_TOKEN }),
    ]);
    herald = await startHerald(
      testEnv({
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: sms.url,
        SMS_HTTP_TOKEN: SMS_TOKEN,
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_API_URL: telegram.url,
      }),
      { queues: ['notifications', 'email', 'sms', 'telegram'] },
    );
  });
  after(async () => {
    await herald?.stop();
    await Promise.all([smtp?.close(), sms?.stop(), telegram?.stop()]);
  });

  async function storeTemplate(title: string, body: string) {
    const key = uniqueId('tpl').toLowerCase();
    const res = await herald.api(`/v1/templates/${key}/en`, { method: 'PUT', json: { title, body } });
    assert.equal(res.status, 201, await res.clone().text());
    return key;
  }

  async function send(template: string, data: Record<string, unknown>, channels: string[]) {
    const email = `${uniqueId('tpl')}@example.test`;
    const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const chat = String(800_000 + Math.floor(Math.random() * 100_000));
    const user = await createUser({ email, phone, telegramChatId: chat });
    const res = await herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'orders', template, data, channels },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    return { id, email, phone, chat };
  }

  it('escapes <b>& in the email HTML only, and leaves it intact in the SMS and Telegram text', async () => {
    const key = await storeTemplate(
      'Order {{order.id}}',
      'Hello {{name}}, {{{name}}} ordered {{order.qty}}.',
    );
    const { id, email, phone, chat } = await send(key, { name: '<b>&', order: { id: 'A&B', qty: 2 } }, [
      'email',
      'sms',
      'telegram',
    ]);
    await settled(id, 'sent');

    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(email));
    assert.equal(mail.parsed.subject, 'Order A&B');
    assert.equal(mail.parsed.text?.trim(), 'Hello <b>&, <b>& ordered 2.');
    const html = String(mail.parsed.html);
    assert.match(html, /<h1>Order A&amp;B<\/h1>/);
    assert.match(html, /Hello &lt;b&gt;&amp;, &lt;b&gt;&amp; ordered 2\./);
    assert.doesNotMatch(html, /<b>&/);
    // Escaped once, not twice.
    assert.doesNotMatch(html, /&amp;lt;|&amp;amp;/);

    const text = await sms.waitFor((m) => m.to === phone);
    assert.match(text.text, /Hello <b>&, <b>& ordered 2\./);
    assert.doesNotMatch(text.text, /&lt;|&amp;/);

    // Telegram HTML: escaped for Telegram once, so the person reads exactly the data.
    const message = await telegram.waitFor((m) => m.chatId === chat);
    assert.equal(message.plainText, 'Order A&B\nHello <b>&, <b>& ordered 2.');
  });

  it('lists a digest’s items with #each and branches with #if', async () => {
    const key = await storeTemplate(
      '{{#if items}}{{items.length}} updates{{else}}Nothing new{{/if}}',
      '{{#each items}}- {{title}}{{#if data.urgent}} (urgent){{/if}}\n{{/each}}',
    );
    const items = ['Build <1> failed', 'Deploy & done', 'Review'].map((title, i) => ({
      title,
      body: `body ${i}`,
      data: { urgent: i === 0 },
      notificationId: `n-${i}`,
      createdAt: new Date(Date.UTC(2026, 11, 6, 10, i)).toISOString(),
    }));
    const { id, email, phone } = await send(key, { items }, ['email', 'sms']);
    await settled(id, 'sent');
    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(email));
    assert.equal(mail.parsed.subject, '3 updates');
    assert.equal(mail.parsed.text?.trim(), '- Build <1> failed (urgent)\n- Deploy & done\n- Review');
    assert.match(
      String(mail.parsed.html),
      /- Build &lt;1&gt; failed \(urgent\)<br>- Deploy &amp; done<br>- Review/,
    );
    const text = await sms.waitFor((m) => m.to === phone);
    assert.match(text.text, /- Build <1> failed \(urgent\)\n- Deploy & done\n- Review/);
  });

  it('fails a delivery for good, with the reason, when stored text no longer renders', async () => {
    const key = await storeTemplate('Hi', 'Body');
    // Stored behind the API's back, as text from before templates were checked could be.
    await herald.db.template.update({
      where: { key_locale: { key, locale: 'en' } },
      data: { body: 'Hi {{#each}}' },
    });
    const { id } = await send(key, {}, ['email']);
    const view = await settled(id, 'failed');
    assert.match(view.deliveries[0]!.lastError ?? '', /template does not render/);
  });
});
