export interface QuietWindow {
  /** Local wall-clock times "HH:MM"; the window may cross midnight (22:00-07:00). */
  start: string;
  end: string;
  /** IANA time zone of those wall-clock times. */
  timezone: string;
}

const DAY_MINUTES = 24 * 60;

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

/** Minutes (with fraction) since local midnight of `at` in `timezone`. */
function localMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return get('hour') * 60 + get('minute') + get('second') / 60 + at.getUTCMilliseconds() / 60_000;
}

/** Whether local minute `m` falls inside [start, end), a window that may cross midnight. */
function inside(m: number, start: number, end: number): boolean {
  if (start === end) return false; // an empty window, not a whole day
  return start < end ? m >= start && m < end : m >= start || m < end;
}

/**
 * When the quiet window that `at` falls in ends, or undefined when `at` is outside it. Daylight
 * saving shifts are handled by checking the wall clock at the computed instant and correcting once.
 */
export function quietHoursEnd(at: Date, window: QuietWindow): Date | undefined {
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  const now = localMinutes(at, window.timezone);
  if (!inside(now, start, end)) return undefined;
  const ahead = (end - now + DAY_MINUTES) % DAY_MINUTES;
  let candidate = new Date(at.getTime() + ahead * 60_000);
  // Across a DST change the wall clock moves by the shift: move the instant back to `end` local time.
  const drift =
    ((localMinutes(candidate, window.timezone) - end + DAY_MINUTES * 1.5) % DAY_MINUTES) - DAY_MINUTES / 2;
  if (Math.abs(drift) >= 1) candidate = new Date(candidate.getTime() - drift * 60_000);
  return candidate.getTime() > at.getTime() ? candidate : undefined;
}
