import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quietHoursEnd } from '../../src/domain/quiet-hours.js';

const moscow = { start: '22:00', end: '07:00', timezone: 'Europe/Moscow' }; // UTC+3, no DST

test('a window across midnight defers from its start until its end, in the user time zone', () => {
  // 23:30 Moscow = 20:30 UTC: inside; ends at 07:00 Moscow the next day = 04:00 UTC.
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T20:30:00Z'), moscow)?.toISOString(),
    '2026-11-22T04:00:00.000Z',
  );
  // 02:15 Moscow (after midnight) = 23:15 UTC the day before: still the same night's window.
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T23:15:00Z'), moscow)?.toISOString(),
    '2026-11-22T04:00:00.000Z',
  );
  // Exactly at the start: inside. Exactly at the end: outside.
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T19:00:00Z'), moscow)?.toISOString(),
    '2026-11-22T04:00:00.000Z',
  );
  assert.equal(quietHoursEnd(new Date('2026-11-22T04:00:00Z'), moscow), undefined);
});

test('outside the window nothing is deferred, even when UTC would say otherwise', () => {
  // 21:30 UTC is 00:30 Moscow (inside), but 12:00 UTC is 15:00 Moscow (outside).
  assert.equal(quietHoursEnd(new Date('2026-11-21T12:00:00Z'), moscow), undefined);
  // 23:00 UTC would be inside a UTC 22:00-07:00 window; in Asia/Kolkata (+5:30) it is 04:30: inside too.
  const kolkata = { start: '22:00', end: '07:00', timezone: 'Asia/Kolkata' };
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T23:00:00Z'), kolkata)?.toISOString(),
    '2026-11-22T01:30:00.000Z',
  );
  // 18:00 UTC is 23:30 in Kolkata: inside, ends 07:00 local = 01:30 UTC.
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T18:00:00Z'), kolkata)?.toISOString(),
    '2026-11-22T01:30:00.000Z',
  );
  // 02:00 UTC is 07:30 in Kolkata: outside.
  assert.equal(quietHoursEnd(new Date('2026-11-22T02:00:00Z'), kolkata), undefined);
});

test('a daytime window (start before end) and an empty one', () => {
  const lunch = { start: '12:00', end: '13:30', timezone: 'UTC' };
  assert.equal(
    quietHoursEnd(new Date('2026-11-21T12:45:10Z'), lunch)?.toISOString(),
    '2026-11-21T13:30:00.000Z',
  );
  assert.equal(quietHoursEnd(new Date('2026-11-21T13:30:00Z'), lunch), undefined);
  assert.equal(quietHoursEnd(new Date('2026-11-21T11:59:59Z'), lunch), undefined);
  assert.equal(quietHoursEnd(new Date('2026-11-21T12:00:00Z'), { ...lunch, end: '12:00' }), undefined);
});

test('across a daylight-saving change the window still ends at the local wall-clock time', () => {
  // Berlin leaves DST on 2026-10-25 at 03:00 local (01:00 UTC). 23:00 local on the 24th = 21:00 UTC.
  const berlin = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
  // 07:00 local on the 25th is CET (UTC+1) = 06:00 UTC, not 05:00.
  assert.equal(
    quietHoursEnd(new Date('2026-10-24T21:00:00Z'), berlin)?.toISOString(),
    '2026-10-25T06:00:00.000Z',
  );
  // New York enters DST on 2026-03-08; 07:00 EDT = 11:00 UTC.
  const ny = { start: '22:00', end: '07:00', timezone: 'America/New_York' };
  assert.equal(
    quietHoursEnd(new Date('2026-03-08T04:00:00Z'), ny)?.toISOString(),
    '2026-03-08T11:00:00.000Z',
  );
});
