// Parsers for environment variables' raw text, shared by the core settings and the channels' own.
import { z } from 'zod';

export const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
  );

export const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, { message: 'must be host:port, such as 127.0.0.1:7233' });

export const port = z.coerce
  .number({ message: 'must be a port number' })
  .int({ message: 'must be a port number' })
  .min(0)
  .max(65535);

/** A whole number, at least 1; `what` names the unit in the message ("requests", "messages a minute"). */
export const countOf = (what?: string) => {
  const message = what
    ? `must be a whole number of ${what}, at least 1`
    : 'must be a whole number, at least 1';
  return z.coerce.number({ message }).int({ message }).min(1, { message });
};

export const positiveInt = countOf();

/** `true` or `false`, as a switch (`DISCORD_ENABLED=true`). */
export const flag = z
  .enum(['true', 'false'], { message: 'must be true or false' })
  .transform((value) => value === 'true');

export const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `500ms`, `30s`, `10m`, `24h`, `7d`, or a bare number of milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!);
}

/** A duration (parseDuration), in milliseconds. */
export const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 10m, 24h or 7d' });
    return z.NEVER;
  }
  return ms;
});

/** Browser origins such as `http://127.0.0.1:8233`: scheme, host and port, no path. */
export const origins = list.refine(
  (items) =>
    items.every((item) => {
      try {
        return new URL(item).origin === item;
      } catch {
        return false;
      }
    }),
  { message: 'must be comma-separated origins such as http://127.0.0.1:8233 (no path, no trailing slash)' },
);

/** Category names, as notifications use them (`billing`, `news`). */
export const categories = list.refine(
  (items) => items.every((item) => /^[a-z0-9][a-z0-9_.-]{0,63}$/.test(item)),
  { message: 'must be comma-separated lowercase categories such as billing,news' },
);

/** Backticked, comma-separated values for a description: `a`, `b` or `c`. */
export function listed(values: readonly string[], last = 'or'): string {
  const quoted = values.map((v) => `\`${v}\``);
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} ${last} ${quoted.at(-1)}`;
}
