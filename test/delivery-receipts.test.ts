// SMS through Twilio end to end, and Twilio's delivery receipts: API → workflow → the sms queue → the
// Twilio fake over HTTP → PostgreSQL; then the fake POSTs signed status callbacks to the API's public
// route, as Twilio does, and the delivery's row (and GET /v1/notifications/:id) follows them, even when a
// callback comes before the send was recorded.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { closeChannels, createChannels } from '../src/activities/channels/registry.js';
import { createDeliveryActivities, type DeliveryResult } from '../src/activities/index.js';
import { createLogger } from '../src/platform/logger.js';
import { startTwilioFake, type TwilioFake } from '../tools/fakes/twilio.js';
import { freePort } from '../tools/local-stack/ports.js';
import { openAttempt, recordSent } from '../src/store/deliveries.js';
import { recordDeliveryReceipt } from '../src/domain/delivery-receipts.js';
import { pruneHistoryWorkflow } from '../src/workflows/history-retention.js';
import { NOTIFICATIONS_QUEUE } from '../src/workflows/definitions.js';
import { eventually, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

interface DeliveryView {
  channel: string;
  status: string;
  attempts: number;
  lastError: string | null;
  providerMessageId: string | null;
}
interface NotificationView {
  status: string;
  deliveries: DeliveryView[];
}

const FROM = '+15005550006';
let nextPhone = 0;
/** A number of its own for each test, so messages and faults never mix. */
const phone = () => `+1415555${String(1000 + nextPhone++).padStart(4, '0')}`;

describe('SMS through Twilio, with delivery receipts', () => {
  let twilio: TwilioFake;
  let herald: RunningStack;
  const logLines: string[] = [];

  before(async () => {
    twilio = await startTwilioFake();
    // Twilio signs the URL it calls, built from PUBLIC_URL: the API must listen where PUBLIC_URL says.
    const port = await freePort();
    const fast = { initialInterval: '200ms', maximumInterval: '1s' };
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    herald = await startHerald(
      testEnv({
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: FROM,
        TWILIO_API_URL: twilio.url,
        DELIVERY_RETRY_POLICIES: JSON.stringify({ sms: fast }),
      }),
      { port, queues: ['notifications', 'sms', 'webhooks'], logger: pino({ level: 'trace' }, sink) },
    );
  });
  after(async () => {
    await herald?.stop();
    await twilio?.stop();
  });

  const view = async (id: string) =>
    (await (await herald.api(`/v1/notifications/${id}`)).json()) as NotificationView;
  const sms = (v: NotificationView) => v.deliveries.find((d) => d.channel === 'sms')!;
  const settled = (id: string, status: string) =>
    eventually(async () => ((await view(id)).status === status ? view(id) : undefined), {
      what: `notification ${id} to be ${status}`,
      timeoutMs: 30_000,
    });
  /** A user with a number of their own, notified on SMS; resolves once the notification settles. */
  async function notify(outcome: string, prepare: (to: string) => void = () => {}) {
    const to = phone();
    const user = await herald.api('/v1/users', { json: { externalId: uniqueId('twilio'), phone: to } });
    assert.equal(user.status, 201, await user.clone().text());
    prepare(to);
    const res = await herald.api('/v1/notifications', {
      json: {
        userId: ((await user.json()) as { id: string }).id,
        category: 'billing',
        title: 'Invoice paid',
        body: 'Thank you.',
        channels: ['sms'],
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    return { id, to, view: await settled(id, outcome) };
  }
  /** A notification delivered through Twilio, with its Message SID. */
  async function delivered() {
    const sent = await notify('sent');
    const sid = sms(sent.view).providerMessageId!;
    assert.match(sid, /^SM[0-9a-f]{32}$/);
    return { ...sent, sid };
  }
  /**
   * A message sent to Twilio by someone else (as the bot's verification codes are), naming Herald's
   * callback URL: Twilio's receipts for it are signed all the same. Its SID.
   */
  async function foreignMessage() {
    const created = await fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        To: phone(),
        From: FROM,
        Body: 'not from a notification',
        StatusCallback: `${herald.config.publicUrl}/providers/twilio/status`,
      }),
    });
    return ((await created.json()) as { sid: string }).sid;
  }
  const earlyReceipt = (sid: string) =>
    herald.db.earlyReceipt.findUnique({
      where: { channel_providerMessageId: { channel: 'sms', providerMessageId: sid } },
    });
  /** The hourly history-retention schedule's workflow, with the worker's own settings. */
  const runHistoryRetention = () =>
    herald.temporal.workflow.execute(pruneHistoryWorkflow, {
      taskQueue: NOTIFICATIONS_QUEUE,
      workflowId: uniqueId('history-retention'),
      args: [{}],
    });
  const row = (id: string) =>
    herald.db.delivery.findUniqueOrThrow({
      where: { notificationId_channel: { notificationId: id, channel: 'sms' } },
    });

  describe('sending', () => {
    it('delivers once, with the form, the basic auth and the StatusCallback Twilio needs', async () => {
      const { to, view, sid } = await delivered();
      const message = twilio.messages.find((m) => m.to === to)!;
      assert.equal(message.sid, sid);
      assert.equal(message.from, FROM);
      assert.equal(message.body, 'Invoice paid\nThank you.');
      assert.equal(message.statusCallback, `${herald.config.publicUrl}/providers/twilio/status`);
      const request = twilio.requests.find((r) => r.params.get('To') === to)!;
      assert.equal(
        request.headers.authorization,
        `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
      );
      assert.deepEqual(sms(view), {
        ...sms(view),
        status: 'sent',
        attempts: 1,
        lastError: null,
        providerMessageId: sid,
      });
    });

    for (const fault of [
      { status: 429, code: 20429 },
      { status: 429, code: 429 },
    ])
      it(`honours Retry-After on ${fault.status} (code ${fault.code}) before the next attempt`, async () => {
        const { to, view } = await notify('sent', () =>
          twilio.failNext(1, { ...fault, message: 'Too Many Requests', retryAfter: 2 }),
        );
        assert.equal(sms(view).attempts, 2);
        const calls = twilio.requests.filter((r) => r.params.get('To') === to);
        assert.deepEqual(
          calls.map((c) => c.status),
          [fault.status, 201],
        );
        // The policy's own interval is 200 ms; Twilio asked for 2 s.
        assert.ok(calls[1]!.at - calls[0]!.at >= 1_900, `waited ${calls[1]!.at - calls[0]!.at} ms`);
      });

    for (const code of [21211, 21614, 21610])
      it(`fails at once on ${code}, with that reason, after one attempt`, async () => {
        const { to, view } = await notify('failed', () =>
          twilio.failNext(1, { status: 400, code, message: 'refused' }),
        );
        assert.equal(sms(view).status, 'failed');
        assert.equal(sms(view).attempts, 1);
        assert.equal(sms(view).lastError, `Twilio ${code}: refused`);
        assert.equal(twilio.requests.filter((r) => r.params.get('To') === to).length, 1);
      });

    it('retries 5xx, then delivers once', async () => {
      const { to, view } = await notify('sent', () => twilio.failNext(2, { status: 503 }));
      assert.equal(sms(view).attempts, 3);
      assert.equal(twilio.messages.filter((m) => m.to === to).length, 1);
    });
  });

  describe('receipts', () => {
    it('a signed `delivered` callback makes the delivery delivered, shown by the API', async () => {
      const { id, sid } = await delivered();
      const answer = await twilio.sendStatus(sid, 'delivered');
      assert.equal(answer.status, 204, answer.body);
      const v = await view(id);
      assert.equal(sms(v).status, 'delivered');
      assert.equal(sms(v).lastError, null);
      // The notification says what Herald did (handed it over); its workflow is not reopened.
      assert.equal(v.status, 'sent');
    });

    it('an unsigned or altered callback gets 403 and changes nothing', async () => {
      const { id, sid } = await delivered();
      const before = await row(id);
      const refusals = [
        await twilio.sendStatus(sid, 'delivered', { signature: null }),
        await twilio.sendStatus(sid, 'delivered', { signature: 'Zm9yZ2VkIHNpZ25hdHVyZQ==' }),
        // Signed as `sent`, then turned into `delivered` on the way.
        await twilio.sendStatus(sid, 'sent', { tamper: (p) => p.set('MessageStatus', 'delivered') }),
        await twilio.sendStatus(sid, 'undelivered', {
          errorCode: 30003,
          tamper: (p) => p.set('ErrorCode', '30005'),
        }),
      ];
      for (const refusal of refusals) {
        assert.equal(refusal.status, 403, refusal.body);
        assert.equal(JSON.parse(refusal.body).type, 'https://herald.dev/problems/forbidden');
      }
      assert.deepEqual(await row(id), before);
      assert.equal(sms(await view(id)).status, 'sent');
    });

    it('an `undelivered` callback with ErrorCode 30003 shows undelivered and the code', async () => {
      const { id, sid } = await delivered();
      assert.equal((await twilio.sendStatus(sid, 'sent')).status, 204);
      assert.equal((await twilio.sendStatus(sid, 'undelivered', { errorCode: 30003 })).status, 204);
      const v = await view(id);
      assert.equal(sms(v).status, 'undelivered');
      assert.match(sms(v).lastError ?? '', /30003/);
      assert.equal(v.status, 'sent');
    });

    it('a `failed` callback counts as undelivered', async () => {
      const { id, sid } = await delivered();
      await twilio.sendStatus(sid, 'failed', { errorCode: 30008 });
      assert.equal(sms(await view(id)).status, 'undelivered');
      assert.match(sms(await view(id)).lastError ?? '', /failed: error 30008/);
    });

    it('receipts out of order or repeated never move a settled delivery back', async () => {
      const { id, sid } = await delivered();
      await twilio.sendStatus(sid, 'delivered');
      const settledRow = await row(id);
      for (const late of ['sent', 'queued', 'sending', 'delivered'] as const)
        assert.equal((await twilio.sendStatus(sid, late)).status, 204);
      assert.equal((await twilio.sendStatus(sid, 'undelivered', { errorCode: 30003 })).status, 204);
      assert.deepEqual(await row(id), settledRow);
    });

    it('a receipt for a message Herald does not know is acknowledged and changes nothing', async () => {
      const { id } = await delivered();
      const before = await herald.db.delivery.findMany({ orderBy: { id: 'asc' } });
      const sid = await foreignMessage();
      const answer = await twilio.sendStatus(sid, 'delivered');
      assert.ok(answer.status >= 200 && answer.status < 300, `${answer.status} ${answer.body}`);
      assert.deepEqual(await herald.db.delivery.findMany({ orderBy: { id: 'asc' } }), before);
      assert.equal(sms(await view(id)).status, 'sent');
    });

    for (const receipt of ['delivered', 'undelivered'] as const)
      it(`a callback saying ${receipt} before the send is recorded waits, and settles the delivery when it is`, async () => {
        // Twilio has the message, and calls back, while its answer to the send (and so the worker's
        // record of the SID) is still on the way.
        let heldTo: string | undefined;
        let release = () => {};
        const sending = notify('sent', (to) => {
          heldTo = to;
          release = twilio.holdAnswersTo(to);
        });
        const message = await twilio.waitFor((m) => m.to === heldTo);
        try {
          const answer = await twilio.sendStatus(message.sid, receipt, {
            errorCode: receipt === 'undelivered' ? 30003 : undefined,
          });
          assert.equal(answer.status, 204, answer.body);
          // A later, different receipt for the same message: the first one still wins.
          await twilio.sendStatus(message.sid, receipt === 'delivered' ? 'undelivered' : 'delivered');
          assert.equal((await earlyReceipt(message.sid))?.status, receipt);
          const waiting = await herald.db.delivery.findMany({ where: { providerMessageId: message.sid } });
          assert.deepEqual(waiting, [], 'the send is not recorded yet');
        } finally {
          release();
        }
        const { id, view: v } = await sending;
        assert.equal(sms(v).providerMessageId, message.sid);
        assert.equal(sms(v).status, receipt);
        if (receipt === 'undelivered') assert.match(sms(v).lastError ?? '', /30003/);
        else assert.equal(sms(v).lastError, null);
        assert.equal(v.status, 'sent');
        assert.equal(await earlyReceipt(message.sid), null, 'applied and removed');
        assert.equal((await row(id)).attempts, 1);
        assert.ok(
          logLines.some((l) => l.includes(message.sid) && l.includes('"outcome":"kept"')),
          'the early receipt is logged as kept',
        );
      });

    it("a receipt and the send's record at the same moment: the delivery settles whichever lands first", async () => {
      // The two race on the pool's connections, each in its own statements (no transaction): one of the
      // two must find the other, whatever the order (src/store/delivery-receipts.ts).
      const user = await herald.db.user.create({ data: { externalId: uniqueId('race') } });
      const sends = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const { id } = await herald.db.notification.create({
            data: {
              userId: user.id,
              category: 'race',
              title: 'Race',
              body: String(i),
              channels: ['sms'],
              status: 'processing',
              workflowId: uniqueId('race'),
            },
          });
          const opened = await openAttempt(herald.db, id, 'sms', 1, 60_000);
          assert.ok(opened && 'attemptId' in opened && opened.attemptId);
          return {
            i,
            ids: { attemptId: opened.attemptId, deliveryId: opened.id },
            sid: `SMrace${uniqueId()}`,
          };
        }),
      );
      const outcomes = await Promise.all(
        sends.map(async ({ i, ids, sid }) => {
          const receipt = () =>
            recordDeliveryReceipt(herald.db, 'sms', {
              providerMessageId: sid,
              status: 'undelivered',
              reason: 'r',
            });
          const record = () => recordSent(herald.db, ids, sid);
          // Half start with the receipt, half with the record.
          if (i % 2) return (await Promise.all([receipt(), record()]))[0];
          return (await Promise.all([record(), receipt()]))[1];
        }),
      );
      for (const outcome of outcomes) assert.ok(['recorded', 'kept'].includes(outcome), outcome);
      const deliveries = await herald.db.delivery.findMany({
        where: { id: { in: sends.map((s) => s.ids.deliveryId) } },
      });
      assert.deepEqual(
        deliveries.map((d) => [d.status, d.lastError]),
        sends.map(() => ['undelivered', 'r']),
      );
      assert.equal(
        await herald.db.earlyReceipt.count({ where: { providerMessageId: { in: sends.map((s) => s.sid) } } }),
        0,
      );
    });

    it('a receipt kept for a message that never shows up is removed by history retention after a day', async () => {
      const [stale, fresh] = [await foreignMessage(), await foreignMessage()];
      for (const sid of [stale, fresh]) {
        assert.equal((await twilio.sendStatus(sid, 'undelivered', { errorCode: 30005 })).status, 204);
        assert.ok(await earlyReceipt(sid), 'kept');
      }
      await herald.db.earlyReceipt.update({
        where: { channel_providerMessageId: { channel: 'sms', providerMessageId: stale } },
        data: { receivedAt: new Date(Date.now() - 25 * 3_600_000) },
      });
      const result = await runHistoryRetention();
      assert.ok(result.earlyReceiptsRemoved >= 1, JSON.stringify(result));
      assert.equal(await earlyReceipt(stale), null);
      assert.equal((await earlyReceipt(fresh))?.status, 'undelivered');
    });

    it('history retention applies a kept receipt whose send was recorded when both looks were lost', async () => {
      // The API died between keeping the receipt and its second look, while the send was recorded.
      const { id, sid } = await delivered();
      await herald.db.earlyReceipt.create({
        data: { channel: 'sms', providerMessageId: sid, status: 'undelivered', reason: '30003: unreachable' },
      });
      const result = await runHistoryRetention();
      assert.ok(result.earlyReceiptsRemoved >= 1, JSON.stringify(result));
      assert.equal(await earlyReceipt(sid), null);
      const settled = await row(id);
      assert.deepEqual([settled.status, settled.lastError], ['undelivered', '30003: unreachable']);
    });

    for (const receipt of ['delivered', 'undelivered'] as const)
      it(`once ${receipt}, a delivery is never sent again: its activity run again sends nothing`, async () => {
        const { id, to, sid } = await delivered();
        await twilio.sendStatus(sid, receipt, { errorCode: receipt === 'undelivered' ? 30003 : undefined });
        const settledRow = await row(id);
        // The same activity run again, as Temporal would after a lost completion: a later attempt number.
        const channels = createChannels(
          herald.config,
          { db: herald.db, logger: createLogger('test', 'silent') },
          ['sms'],
        );
        try {
          const { deliverSms } = createDeliveryActivities(herald.db, channels, { defaultLocale: 'en' });
          const result: DeliveryResult = await new MockActivityEnvironment({ attempt: 2 }).run(deliverSms!, {
            notificationId: id,
            channel: 'sms' as const,
          });
          assert.deepEqual(result, { status: 'sent', providerMessageId: sid, alreadySent: true });
        } finally {
          await closeChannels(channels);
        }
        assert.equal(twilio.messages.filter((m) => m.to === to).length, 1);
        assert.deepEqual(await row(id), settledRow);
      });

    it("a receipt touches no other channel's delivery with the same message id", async () => {
      const { id, sid } = await delivered();
      // Another channel's delivery whose provider happened to use the same id.
      await herald.db.delivery.create({
        data: { notificationId: id, channel: 'email', status: 'sent', providerMessageId: sid },
      });
      await twilio.sendStatus(sid, 'undelivered', { errorCode: 30003 });
      const v = await view(id);
      assert.equal(sms(v).status, 'undelivered');
      assert.equal(v.deliveries.find((d) => d.channel === 'email')?.status, 'sent');
    });

    it('logs neither a signature nor the auth token', () => {
      const log = logLines.join('');
      assert.match(log, /Twilio delivery receipt/);
      assert.ok(!log.includes(twilio.authToken), 'the auth token reached the log');
      const basic = Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64');
      assert.ok(!log.includes(basic), 'the basic credentials reached the log');
      const signatures = twilio.callbacks.flatMap((c) => (c.signature ? [c.signature] : []));
      assert.ok(signatures.length > 10);
      for (const signature of signatures) assert.ok(!log.includes(signature), 'a signature reached the log');
    });
  });
});
