// Flows at real lengths (a day's delay, a day's digest window) on Temporal's time-skipping test server,
// with PostgreSQL, the activities and the SMTP sink real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putFlow } from '../src/domain/flows.js';
import { putFlowSchema } from '../src/domain/flow-schema.js';
import { statusQuery } from '../src/workflows/definitions.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { recordHistory } from './support/histories.js';
import { eventually, testEnv, uniqueId } from './support/stack.js';
import { startTimeSkippingHerald, type TimeSkippingHerald } from './support/time-skipping.js';

const DAY = 86_400_000;

describe('flows at real lengths (time skipping)', () => {
  let smtp: SmtpSink;
  let herald: TimeSkippingHerald;

  before(async () => {
    smtp = await startSmtpSink();
    herald = await startTimeSkippingHerald(testEnv({ SMTP_URL: smtp.url }));
  });
  after(async () => {
    await herald?.stop();
    await smtp?.close();
  });

  const user = async () => {
    const email = `${uniqueId('flowtime')}@example.test`;
    const created = await herald.db.user.create({
      data: { externalId: uniqueId(), contacts: { create: { channel: 'email', address: email } } },
    });
    return { id: created.id, email };
  };
  const flow = async (steps: unknown[]) => {
    const key = uniqueId('timed');
    await putFlow(herald.db, key, putFlowSchema.parse({ steps }));
    return key;
  };
  const mailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));

  it('delays a day, then sends', async () => {
    const key = await flow([
      { type: 'delay', duration: '1d' },
      { type: 'send', channels: ['email'] },
    ]);
    const u = await user();
    const { handle } = await herald.send({
      userId: u.id,
      category: 'updates',
      title: 'A day later',
      body: 'b',
      flow: key,
    });
    await eventually(async () => (await handle.query(statusQuery)).flowStep?.type === 'delay');
    await herald.env.sleep(DAY - 60_000);
    assert.equal(mailsTo(u.email).length, 0, 'nothing a minute before the day is over');
    await herald.env.sleep(60_000);
    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(u.email));
    assert.equal(mail.parsed.subject, 'A day later');
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING');
    await recordHistory(handle, 'flow-delay-a-day');
  });

  it('collects a day-long digest window into one email', async () => {
    const key = await flow([
      { type: 'digest', window: '1d' },
      { type: 'send', channels: ['email'] },
    ]);
    const u = await user();
    for (const title of ['Morning', 'Noon', 'Evening'])
      await herald.send({ userId: u.id, category: 'updates', title, body: 'b', flow: key });
    await eventually(
      async () => (await herald.db.notification.count({ where: { userId: u.id, status: 'digested' } })) === 3,
    );
    await herald.env.sleep(DAY / 2);
    assert.equal(mailsTo(u.email).length, 0, 'the window is still open');
    await herald.env.sleep(DAY / 2 + 1_000);
    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(u.email));
    assert.equal(mail.parsed.subject, '3 new notifications');
    assert.equal((mail.parsed.text ?? '').trim(), '• Morning\n• Noon\n• Evening');
  });

  it("waits for the person's daily digest hour instead of the flow's window", async () => {
    const key = await flow([
      { type: 'digest', window: '1m' },
      { type: 'send', channels: ['email'] },
    ]);
    const u = await user();
    // Daily at a UTC hour two to three hours ahead of the server's clock: well past the flow's minute.
    const now = await herald.env.currentTimeMs();
    const hour = (new Date(now).getUTCHours() + 3) % 24;
    const due = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate(),
      new Date(now).getUTCHours() + 3,
    );
    await herald.db.user.update({ where: { id: u.id }, data: { timezone: 'UTC' } });
    await herald.db.digestPreference.create({
      data: { userId: u.id, category: 'updates', mode: 'daily', hour },
    });
    for (const title of ['First', 'Second'])
      await herald.send({ userId: u.id, category: 'updates', title, body: 'b', flow: key });
    await eventually(
      async () => (await herald.db.notification.count({ where: { userId: u.id, status: 'digested' } })) === 2,
    );
    await herald.env.sleep(10 * 60_000);
    assert.equal(mailsTo(u.email).length, 0, "the flow's minute is over, the person's hour is not");
    await herald.env.sleep(due - (await herald.env.currentTimeMs()) + 1_000);
    const mail = await smtp.waitFor((m) => m.envelopeTo.includes(u.email));
    assert.equal(mail.parsed.subject, '2 new notifications');
  });
});
