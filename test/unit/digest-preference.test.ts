// When a digest is due: the next top of the hour, or the next hour:00 on the user's wall clock, across
// daylight-saving changes (Berlin, New York) and in zones offset by half an hour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nextDigestTime,
  withDigestChoice,
  type DigestChoice,
  type DigestPreference,
} from '../../src/domain/digest-preference.js';

const next = (pref: DigestPreference, now: string) => nextDigestTime(pref, new Date(now))?.toISOString();
const daily = (hour: number, timeZone: string): DigestPreference => ({ mode: 'daily', hour, timeZone });

describe('nextDigestTime', () => {
  it('is never for off', () => {
    assert.equal(nextDigestTime({ mode: 'off' }, new Date('2026-12-06T10:34:56Z')), undefined);
  });

  it('hourly: the next top of the hour, strictly after now', () => {
    assert.equal(next({ mode: 'hourly' }, '2026-12-06T10:34:56.789Z'), '2026-12-06T11:00:00.000Z');
    assert.equal(next({ mode: 'hourly' }, '2026-12-06T11:00:00.000Z'), '2026-12-06T12:00:00.000Z');
    assert.equal(next({ mode: 'hourly' }, '2026-12-31T23:59:59.999Z'), '2027-01-01T00:00:00.000Z');
  });

  it('daily: today at the hour if still ahead, else tomorrow, in the user time zone', () => {
    // Berlin in winter is UTC+1: 09:00 local is 08:00 UTC.
    assert.equal(next(daily(9, 'Europe/Berlin'), '2026-12-06T07:00:00Z'), '2026-12-06T08:00:00.000Z');
    assert.equal(next(daily(9, 'Europe/Berlin'), '2026-12-06T08:00:00Z'), '2026-12-07T08:00:00.000Z');
    assert.equal(next(daily(9, 'Europe/Berlin'), '2026-12-06T07:59:59.999Z'), '2026-12-06T08:00:00.000Z');
    // Midnight local, and a local date ahead of the UTC date (Tokyo, UTC+9).
    assert.equal(next(daily(0, 'Europe/Berlin'), '2026-12-06T22:30:00Z'), '2026-12-06T23:00:00.000Z');
    assert.equal(next(daily(8, 'Asia/Tokyo'), '2026-12-06T20:00:00Z'), '2026-12-06T23:00:00.000Z');
    assert.equal(next(daily(23, 'America/Los_Angeles'), '2026-12-07T06:59:00Z'), '2026-12-07T07:00:00.000Z');
    // Half-hour zone (Kolkata, UTC+5:30).
    assert.equal(next(daily(9, 'Asia/Kolkata'), '2026-12-06T04:00:00Z'), '2026-12-07T03:30:00.000Z');
    assert.equal(next(daily(9, 'UTC'), '2026-12-06T04:00:00Z'), '2026-12-06T09:00:00.000Z');
  });

  it('daily across the spring change: the hour keeps to the wall clock; a skipped hour is when the skip ends', () => {
    // Berlin, 2027-03-28: 02:00 CET jumps to 03:00 CEST (UTC+1 → UTC+2).
    assert.equal(next(daily(9, 'Europe/Berlin'), '2027-03-27T09:00:00Z'), '2027-03-28T07:00:00.000Z');
    // 02:00 does not happen that night: due at 03:00 CEST (01:00 UTC), then 02:00 CEST the next night.
    assert.equal(next(daily(2, 'Europe/Berlin'), '2027-03-27T23:00:00Z'), '2027-03-28T01:00:00.000Z');
    assert.equal(next(daily(2, 'Europe/Berlin'), '2027-03-28T01:00:00Z'), '2027-03-29T00:00:00.000Z');
    // New York, 2027-03-14: 02:00 EST jumps to 03:00 EDT.
    assert.equal(next(daily(2, 'America/New_York'), '2027-03-14T05:00:00Z'), '2027-03-14T07:00:00.000Z');
  });

  it('daily across the autumn change: an hour the clock shows twice is due the first time, once a day', () => {
    // Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET, so 02:00 happens at 00:00 and 01:00 UTC.
    assert.equal(next(daily(2, 'Europe/Berlin'), '2026-10-24T23:00:00Z'), '2026-10-25T00:00:00.000Z');
    assert.equal(next(daily(2, 'Europe/Berlin'), '2026-10-25T00:00:00Z'), '2026-10-26T01:00:00.000Z');
    assert.equal(next(daily(9, 'Europe/Berlin'), '2026-10-24T08:00:00Z'), '2026-10-25T08:00:00.000Z');
    // New York, 2026-11-01: 01:00 happens at 05:00 UTC (EDT) and 06:00 UTC (EST).
    assert.equal(next(daily(1, 'America/New_York'), '2026-11-01T03:00:00Z'), '2026-11-01T05:00:00.000Z');
    assert.equal(next(daily(1, 'America/New_York'), '2026-11-01T05:30:00Z'), '2026-11-02T06:00:00.000Z');
  });

  it('is deterministic: the same input gives the same answer, whatever the machine clock', () => {
    const pref = daily(7, 'Australia/Sydney');
    const now = new Date('2026-12-06T10:00:00Z');
    const answers = new Set(Array.from({ length: 20 }, () => nextDigestTime(pref, now)!.toISOString()));
    assert.deepEqual([...answers], ['2026-12-06T20:00:00.000Z']);
    assert.equal(now.toISOString(), '2026-12-06T10:00:00.000Z');
  });

  it('every hour of every day of a year in Berlin and New York: due on the hour, after now, within a day', () => {
    for (const timeZone of ['Europe/Berlin', 'America/New_York']) {
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 5 * 3_600_000 + 7 * 60_000) {
        const hour = Math.floor(t / 3_600_000) % 24;
        const due = nextDigestTime(daily(hour, timeZone), new Date(t))!;
        assert.ok(due.getTime() > t, `${timeZone} ${hour} ${new Date(t).toISOString()}`);
        assert.ok(due.getTime() - t <= 25 * 3_600_000, `${timeZone} ${hour} ${new Date(t).toISOString()}`);
        const local = new Intl.DateTimeFormat('en-GB', {
          timeZone,
          hourCycle: 'h23',
          hour: '2-digit',
          minute: '2-digit',
        }).format(due);
        assert.ok(
          local === `${String(hour).padStart(2, '0')}:00` ||
            local === `${String(hour + 1).padStart(2, '0')}:00`,
          local,
        );
      }
    }
  });
});

describe('withDigestChoice', () => {
  const hourly = (category: string): DigestChoice => ({ category, mode: 'hourly' });
  it('sets one category, and off drops its row unless * needs overriding', () => {
    assert.deepEqual(withDigestChoice([], hourly('orders')), [hourly('orders')]);
    assert.deepEqual(withDigestChoice([hourly('orders')], { category: 'orders', mode: 'off' }), []);
    assert.deepEqual(withDigestChoice([hourly('*'), hourly('orders')], { category: 'orders', mode: 'off' }), [
      hourly('*'),
      { category: 'orders', mode: 'off' },
    ]);
    assert.deepEqual(withDigestChoice([hourly('a')], { category: 'b', mode: 'daily', hour: 9 }), [
      hourly('a'),
      { category: 'b', mode: 'daily', hour: 9 },
    ]);
  });
});
