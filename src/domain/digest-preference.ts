// A person's digest choice per category (issue 18): get a flow's notifications each as they come (off),
// or collected into one digest every hour, or every day at a local hour. A flow's digest step asks
// digestPreferenceFor and waits until nextDigestTime; the API, the preference page and the bot set it.
import type { Db } from '../store/db.js';

/** What a flow's digest step honours; `timeZone` is the user's (IANA). */
export type DigestPreference =
  { mode: 'off' } | { mode: 'hourly' } | { mode: 'daily'; hour: number /* 0-23 local */; timeZone: string };

export type DigestMode = DigestPreference['mode'];
export const DIGEST_MODES = ['off', 'hourly', 'daily'] as const satisfies readonly DigestMode[];

/** A digest choice without its category. */
export type DigestSetting = { mode: 'off' | 'hourly' } | { mode: 'daily'; hour: number };

/** One stored choice, as the API shows and takes it: `*` is every category without its own. */
export type DigestChoice = DigestSetting & { category: string };

const OFF: DigestPreference = { mode: 'off' };

/**
 * The user's digest choice for a category: its own, else the one for `*`, else off. Off, too, for a
 * user who no longer exists (a flow then has nobody to collect for).
 */
export async function digestPreferenceFor(
  db: Db,
  userId: string,
  category: string,
): Promise<DigestPreference> {
  const user = await db.user.findUnique({
    where: { id: userId },
    select: {
      timezone: true,
      digestPreferences: {
        where: { category: { in: [category, '*'] } },
        select: { category: true, mode: true, hour: true },
      },
    },
  });
  if (!user) return OFF;
  const row =
    user.digestPreferences.find((r) => r.category === category) ??
    user.digestPreferences.find((r) => r.category === '*');
  if (!row || row.mode === 'off') return OFF;
  if (row.mode === 'hourly') return { mode: 'hourly' };
  return { mode: 'daily', hour: row.hour ?? 0, timeZone: user.timezone };
}

/** The user's stored choices, by category (absent categories are off). */
export async function digestChoicesOf(db: Db, userId: string): Promise<DigestChoice[]> {
  const rows = await db.digestPreference.findMany({ where: { userId }, orderBy: { category: 'asc' } });
  return rows.map(({ category, mode, hour }) =>
    mode === 'daily' ? { category, mode, hour: hour ?? 0 } : { category, mode },
  );
}

/** The statements that replace the user's choices, for the caller's transaction. */
export function replaceDigestChoices(db: Db, userId: string, choices: readonly DigestChoice[]) {
  return [
    db.digestPreference.deleteMany({ where: { userId } }),
    db.digestPreference.createMany({
      data: choices.map((c) => ({
        userId,
        category: c.category,
        mode: c.mode,
        hour: c.mode === 'daily' ? c.hour : null,
      })),
    }),
  ];
}

/** The choices with one category's set; `off` for a category drops its row unless `*` says otherwise. */
export function withDigestChoice(choices: readonly DigestChoice[], choice: DigestChoice): DigestChoice[] {
  const rest = choices.filter((c) => c.category !== choice.category);
  const inherited = rest.find((c) => c.category === '*');
  if (choice.mode === 'off' && choice.category !== '*' && (!inherited || inherited.mode === 'off'))
    return rest;
  return [...rest, choice].sort((a, b) => a.category.localeCompare(b.category));
}

/** How a choice reads to people: "off", "hourly", "daily at 09:00". */
export function describeDigest(choice: { mode: DigestMode; hour?: number }): string {
  if (choice.mode === 'daily') return `daily at ${String(choice.hour ?? 0).padStart(2, '0')}:00`;
  return choice.mode;
}

const HOUR_MS = 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(at: number, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The zone's offset from UTC at an instant, in ms (local minus UTC). */
function offsetAt(at: number, timeZone: string): number {
  const c = wallClock(at, timeZone);
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant a local date and hour (hour:00) happens in a zone. When the clock shows it twice (autumn),
 * the first time; when it skips it (spring), the instant the skip ends (02:00 that never was is 03:00).
 */
function localHourToInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  timeZone: string,
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour);
  // The offsets just before and after the wall-clock time: one of them is in force at it.
  const candidates = [
    ...new Set([offsetAt(asUtc - 14 * HOUR_MS, timeZone), offsetAt(asUtc + 14 * HOUR_MS, timeZone)]),
  ]
    .map((offset) => asUtc - offset)
    .sort((a, b) => a - b);
  const shows = (at: number) => {
    const c = wallClock(at, timeZone);
    return c.year === year && c.month === month && c.day === day && c.hour === hour && c.minute === 0;
  };
  // In a gap no candidate shows the hour; the earlier offset's instant is where the clock jumps past it.
  return candidates.find(shows) ?? asUtc - offsetAt(asUtc - 14 * HOUR_MS, timeZone);
}

/**
 * When the next digest is due after `now`: never for off; the next top of the hour (UTC hours, which are
 * local hours everywhere but in zones offset by a fraction of an hour) for hourly; the next hour:00 on
 * the user's wall clock for daily, correct across daylight-saving changes. Pure: the same input, the same
 * answer, so a workflow may call it with its own clock.
 */
export function nextDigestTime(pref: DigestPreference, now: Date): Date | undefined {
  const at = now.getTime();
  if (pref.mode === 'off') return undefined;
  if (pref.mode === 'hourly') return new Date(Math.floor(at / HOUR_MS) * HOUR_MS + HOUR_MS);
  const today = wallClock(at, pref.timeZone);
  // Today's, tomorrow's or (past a day that skipped the hour) the next day's occurrence.
  for (let days = 0; days < 3; days++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + days));
    const due = localHourToInstant(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      pref.hour,
      pref.timeZone,
    );
    if (due > at) return new Date(due);
  }
  throw new Error(`no ${pref.hour}:00 in ${pref.timeZone} within three days of ${now.toISOString()}`);
}
