// Time behaviour of the notification workflow at real lengths (hours, days) on Temporal's
// time-skipping test server: sendAt, quiet hours across midnight in a non-UTC zone, the retry
// window, and cancel at each stage. Activities, PostgreSQL and the SMTP sink are real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  cancelSignal,
  cancelUpdate,
  retrySignal,
  retryUpdate,
  statusQuery,
} from '../src/workflows/definitions.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { eventually, testEnv, uniqueId } from './support/stack.js';
import { recordHistory } from './support/histories.js';
import { startTimeSkippingHerald, type TimeSkippingHerald } from './support/time-skipping.js';

const HOUR = 3_600_000;

describe('workflow time: sendAt, quiet hours, retry window, cancel', () => {
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

  async function user(extra: { timezone?: string; quiet?: [string, string] } = {}) {
    const email = `${uniqueId('time')}@example.test`;
    const created = await herald.db.user.create({
      data: {
        externalId: uniqueId(),
        contacts: { create: { channel: 'email', address: email } },
        timezone: extra.timezone ?? 'UTC',
        ...(extra.quiet ? { quietHours: { create: { start: extra.quiet[0], end: extra.quiet[1] } } } : {}),
      },
    });
    return { id: created.id, email };
  }

  /** A user in Tokyo whose quiet hours, from an hour ago to an hour ahead, hold whatever the time. */
  async function userInQuietHoursNow() {
    const local = new Date((await herald.now()) + 9 * HOUR); // Tokyo is UTC+9 all year
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    return user({
      timezone: 'Asia/Tokyo',
      quiet: [hhmm(new Date(local.getTime() - HOUR)), hhmm(new Date(local.getTime() + HOUR))],
    });
  }

  const send = (userId: string, extra: { category?: string; sendAt?: string } = {}) =>
    herald.send({
      userId,
      category: extra.category ?? 'updates',
      title: 'Hello',
      body: 'Time test',
      ...extra,
    });

  const phase = (handle: Awaited<ReturnType<typeof send>>['handle'], state: string) =>
    eventually(
      async () => {
        const status = await handle.query(statusQuery);
        return status.state === state && status;
      },
      { what: `the workflow to be ${state}` },
    );

  /**
   * The workflow's outcome once it has closed. Time moves only through env.sleep: awaiting
   * handle.result() would let the test server skip ahead to the 10-year run timeouts of closed runs.
   */
  const outcome = async (handle: Awaited<ReturnType<typeof send>>['handle']) => {
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', {
      what: 'the workflow to close',
    });
    return (await herald.db.notification.findFirstOrThrow({ where: { workflowId: handle.workflowId } }))
      .status;
  };

  const dbStatus = async (id: string) =>
    await herald.db.notification.findUniqueOrThrow({ where: { id }, include: { deliveries: true } });

  const mailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));

  it('holds a notification until sendAt (3 hours of workflow time), then delivers it', async () => {
    const u = await user();
    const sendAt = new Date((await herald.now()) + 3 * HOUR).toISOString();
    const { id, handle } = await send(u.id, { sendAt });
    const status = await phase(handle, 'scheduled');
    assert.equal(status.sendAt, sendAt);
    assert.equal((await dbStatus(id)).status, 'scheduled');
    assert.equal(mailsTo(u.email).length, 0);

    await herald.env.sleep(3 * HOUR - 60_000);
    assert.equal((await handle.query(statusQuery)).state, 'scheduled', 'still waiting a minute before');
    await herald.env.sleep(60_000);
    assert.equal(await outcome(handle), 'sent');
    assert.equal(mailsTo(u.email).length, 1);
    const described = await handle.describe();
    assert.ok(described.closeTime!.getTime() - described.startTime.getTime() >= 3 * HOUR);
    assert.equal((await dbStatus(id)).status, 'sent');
    await recordHistory(handle, 'send-at');
  });

  it('defers delivery during quiet hours across midnight in the user time zone, and never drops it', async () => {
    // Move the server clock to 23:30 in Tokyo (UTC+9, no DST): inside a 22:00-07:00 window.
    const now = await herald.now();
    const day = new Date(now);
    let target = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 14, 30);
    if (target <= now) target += 24 * HOUR;
    await herald.env.sleep(target - now);

    const u = await user({ timezone: 'Asia/Tokyo', quiet: ['22:00', '07:00'] });
    const { id, handle } = await send(u.id);
    const status = await phase(handle, 'deferred');
    // 07:00 in Tokyo is 22:00 UTC, 7.5 hours after 23:30 local.
    assert.equal(status.deferredUntil, new Date(target + 7.5 * HOUR).toISOString());
    assert.equal((await dbStatus(id)).status, 'deferred');
    assert.equal(mailsTo(u.email).length, 0);

    await herald.env.sleep(7.5 * HOUR - 60_000);
    assert.equal((await handle.query(statusQuery)).state, 'deferred', 'still quiet at 06:59');
    await herald.env.sleep(60_000);
    assert.equal(await outcome(handle), 'sent');
    assert.equal(mailsTo(u.email).length, 1);
    const described = await handle.describe();
    assert.ok(described.closeTime!.getTime() >= target + 7.5 * HOUR);
    assert.equal((await dbStatus(id)).status, 'sent');
    await recordHistory(handle, 'quiet-hours-deferred');
  });

  it('lets a mandatory category (security) through quiet hours', async () => {
    const u = await userInQuietHoursNow();
    const quiet = await send(u.id);
    await phase(quiet.handle, 'deferred');
    const security = await send(u.id, { category: 'security' });
    assert.equal(await outcome(security.handle), 'sent');
    const described = await security.handle.describe();
    assert.ok(described.closeTime!.getTime() - described.startTime.getTime() < 5 * 60_000);
    await quiet.handle.signal(cancelSignal, { reason: 'test cleanup' });
    assert.equal(await outcome(quiet.handle), 'cancelled');
    await recordHistory(security.handle, 'mandatory-bypasses-quiet-hours');
    await recordHistory(quiet.handle, 'cancel-signal-deferred');
  });

  it('cancels while scheduled (update) and while deferred (signal); nothing is sent', async () => {
    const u = await user();
    const scheduled = await send(u.id, { sendAt: new Date((await herald.now()) + 24 * HOUR).toISOString() });
    await phase(scheduled.handle, 'scheduled');
    await assert.rejects(scheduled.handle.executeUpdate(retryUpdate), WorkflowUpdateFailedError);
    const status = await scheduled.handle.executeUpdate(cancelUpdate, {
      args: [{ reason: 'changed my mind' }],
    });
    assert.ok(['scheduled', 'cancelled'].includes(status.state));
    assert.equal(await outcome(scheduled.handle), 'cancelled');
    const row = await dbStatus(scheduled.id);
    assert.equal(row.status, 'cancelled');
    assert.ok(row.completedAt);
    await assert.rejects(scheduled.handle.executeUpdate(cancelUpdate, { args: [{}] }));
    await recordHistory(scheduled.handle, 'cancel-update-scheduled');

    const q = await userInQuietHoursNow();
    const deferred = await send(q.id);
    await phase(deferred.handle, 'deferred');
    await deferred.handle.signal(cancelSignal);
    assert.equal(await outcome(deferred.handle), 'cancelled');
    const deferredRow = await dbStatus(deferred.id);
    assert.equal(deferredRow.status, 'cancelled');
    assert.deepEqual(
      deferredRow.deliveries.map((d) => d.status),
      ['cancelled'],
    );
    assert.equal(mailsTo(u.email).length + mailsTo(q.email).length, 0);
  });

  it('cancels while a delivery is retrying', async () => {
    const u = await user();
    smtp.failNext(451, 50);
    const { id, handle } = await send(u.id);
    await eventually(async () => ((await dbStatus(id)).deliveries[0]?.attempts ?? 0) >= 2, {
      what: 'two failed attempts',
    });
    await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'no longer relevant' }] });
    assert.equal(await outcome(handle), 'cancelled');
    smtp.clearFailures();
    const row = await dbStatus(id);
    assert.equal(row.status, 'cancelled');
    assert.equal(row.deliveries[0]!.status, 'cancelled');
    assert.equal(mailsTo(u.email).length, 0);
    await recordHistory(handle, 'cancel-while-retrying');
  });

  it('keeps a failed delivery retryable: a retry signal within the window delivers it', async () => {
    const u = await user();
    smtp.failNext(550, 1);
    const { id, handle } = await send(u.id);
    const waiting = await phase(handle, 'awaiting_retry');
    assert.equal(waiting.channels.email?.state, 'failed');
    assert.equal(waiting.channels.email?.permanent, true);
    assert.match(waiting.channels.email?.error ?? '', /550/);
    assert.ok(Date.parse(waiting.retryDeadline!) - (await herald.now()) > 6 * 24 * HOUR);
    // The phase shows before recordProgress has written it (a retry asked for meanwhile must count).
    const failed = await eventually(async () => {
      const row = await dbStatus(id);
      return row.status !== 'processing' && row;
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.completedAt, null);
    assert.equal(failed.deliveries[0]!.status, 'failed');
    assert.match(failed.deliveries[0]!.lastError ?? '', /SMTP 550/);

    // A day later (workflow time) an operator fixes the fault and retries.
    await herald.env.sleep(24 * HOUR);
    await handle.signal(retrySignal);
    assert.equal(await outcome(handle), 'sent');
    const sent = await dbStatus(id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.deliveries[0]!.status, 'sent');
    assert.equal(sent.deliveries[0]!.attempts, 2);
    assert.equal(mailsTo(u.email).length, 1);
    await recordHistory(handle, 'retry-signal-after-failure');
  });

  it('closes as failed when no retry comes within the 7-day window; cancel works while waiting', async () => {
    const u = await user();
    smtp.failNext(550, 2);
    const lapsing = await send(u.id);
    const cancelled = await send(u.id);
    await phase(lapsing.handle, 'awaiting_retry');
    await phase(cancelled.handle, 'awaiting_retry');

    await cancelled.handle.executeUpdate(cancelUpdate, { args: [{}] });
    assert.equal(await outcome(cancelled.handle), 'cancelled');
    assert.equal((await dbStatus(cancelled.id)).status, 'cancelled');

    await herald.env.sleep(7 * 24 * HOUR - HOUR);
    assert.equal(
      (await lapsing.handle.query(statusQuery)).state,
      'awaiting_retry',
      'still retryable on day 7',
    );
    await herald.env.sleep(2 * HOUR);
    assert.equal(await outcome(lapsing.handle), 'failed');
    const row = await dbStatus(lapsing.id);
    assert.equal(row.status, 'failed');
    assert.ok(row.completedAt);
    await assert.rejects(lapsing.handle.executeUpdate(retryUpdate));
    assert.equal(mailsTo(u.email).length, 0);
    await recordHistory(lapsing.handle, 'retry-window-lapsed');
    await recordHistory(cancelled.handle, 'cancel-awaiting-retry');
  });
});
