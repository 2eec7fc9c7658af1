import { z } from 'zod';

/** A missing or malformed environment variable: start-up stops with a message that names it. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const url = (protocols: string[]) =>
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

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, { message: 'must be host:port, such as 127.0.0.1:7233' });

const port = z.coerce
  .number({ message: 'must be a port number' })
  .int({ message: 'must be a port number' })
  .min(0)
  .max(65535);

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const CHANNEL_NAMES = ['email', 'sms', 'push', 'telegram'] as const;
type Channel = (typeof CHANNEL_NAMES)[number];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `500ms`, `30s`, `10m`, `24h`, `7d`, or a bare number of milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!);
}
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 10m, 24h or 7d' });
    return z.NEVER;
  }
  return ms;
});

/** `telegram=25,sms=10`: activities per second on each channel's task queue. */
const rateLimits = z.string().transform((value, ctx) => {
  const limits: Partial<Record<Channel, number>> = {};
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const [name, rate] = item.split('=').map((p) => p.trim());
    if (!CHANNEL_NAMES.includes(name as Channel) || !(Number(rate) > 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not channel=perSecond (channels: ${CHANNEL_NAMES.join(', ')})`,
      });
      return z.NEVER;
    }
    limits[name as Channel] = Number(rate);
  }
  return limits;
});

const retryPolicy = z
  .object({
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumInterval: duration.optional(),
    giveUpAfter: duration.optional(),
  })
  .strict();
/** JSON such as `{"sms":{"initialInterval":"5s","giveUpAfter":"2h"}}`; unset fields keep the defaults. */
const retryPolicies = z.string().transform((value, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, such as {"sms":{"giveUpAfter":"2h"}}' });
    return z.NEVER;
  }
  const parsed = z.partialRecord(z.enum(CHANNEL_NAMES), retryPolicy).safeParse(json);
  if (!parsed.success) {
    ctx.addIssue({
      code: 'custom',
      message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    });
    return z.NEVER;
  }
  return parsed.data;
});

export interface DeliveryRetrySettings {
  initialInterval?: number;
  backoffCoefficient?: number;
  maximumInterval?: number;
  giveUpAfter?: number;
}

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  PORT: port.default(3000),
  API_KEYS: list.default([]),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_FALLBACK_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('Herald <herald@localhost>'),
  TELEGRAM_BOT_TOKEN: z.string().min(1).optional(),
  TELEGRAM_API_URL: url(['http:', 'https:']).default('https://api.telegram.org'),
  VAPID_PUBLIC_KEY: z.string().min(1).optional(),
  VAPID_PRIVATE_KEY: z.string().min(1).optional(),
  VAPID_SUBJECT: z.string().min(1).default('mailto:herald@localhost'),
  SMS_PROVIDER: z.enum(['http']).optional(),
  SMS_HTTP_URL: url(['http:', 'https:']).optional(),
  SMS_HTTP_TOKEN: z.string().min(1).optional(),
  PUSH_TTL_SECONDS: z.coerce.number().int().min(0).max(2_419_200).default(86_400),
  SMS_MAX_SEGMENTS: z.coerce.number().int().min(1).max(10).default(3),
  CHANNEL_RATE_LIMITS: rateLimits.default({}),
  DELIVERY_RETRY_POLICIES: retryPolicies.default({}),
  DELIVERY_RETRY_WINDOW: duration.default(7 * 24 * 3600_000),
  MANDATORY_CATEGORIES: list.default(['security']),
  API_RATE_LIMIT: z.coerce
    .number({ message: 'must be a positive number of requests per second' })
    .positive({ message: 'must be a positive number of requests per second' })
    .default(50),
  API_RATE_BURST: z.coerce
    .number({ message: 'must be a whole number of requests, at least 1' })
    .int({ message: 'must be a whole number of requests, at least 1' })
    .min(1, { message: 'must be a whole number of requests, at least 1' })
    .default(100),
  DEFAULT_LOCALE: z.string().min(2).default('en'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Env = z.infer<typeof schema>;

export interface Config {
  databaseUrl: string;
  temporal: { address: string; namespace: string };
  port: number;
  apiKeys: string[];
  api: {
    /** Token bucket per API key, per API process: the sustained rate and the burst it may spend at once. */
    rateLimit: { perSecond: number; burst: number };
  };
  smtp: { url?: string; fallbackUrl?: string; from: string };
  telegram: { token?: string; apiUrl: string };
  vapid: { publicKey?: string; privateKey?: string; subject: string };
  sms: { provider?: 'http'; url?: string; token?: string; maxSegments: number };
  push: { ttlSeconds: number };
  delivery: {
    /** Activities per second on each channel's task queue (Temporal's maxTaskQueueActivitiesPerSecond). */
    rateLimits: Partial<Record<Channel, number>>;
    /** Per-channel overrides of the retry policy; durations in milliseconds. */
    retryPolicies: Partial<Record<Channel, DeliveryRetrySettings>>;
    /** How long a notification whose delivery gave up waits for a retry before it closes as failed. */
    retryWindowMs: number;
    /** Categories that ignore opt-outs and quiet hours (never a missing contact). */
    mandatoryCategories: string[];
  };
  /** Templates fall back to this locale when the user's has no translation. */
  defaultLocale: string;
  logLevel: Env['LOG_LEVEL'];
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '?');
        return { variable, message: present[variable] === undefined ? 'is required' : issue.message };
      }),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  if (e.SMS_PROVIDER === 'http' && !e.SMS_HTTP_URL) {
    problems.push({ variable: 'SMS_HTTP_URL', message: 'is required when SMS_PROVIDER=http' });
  }
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    problems.push({
      variable: e.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY',
      message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    databaseUrl: e.DATABASE_URL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
    port: e.PORT,
    apiKeys: e.API_KEYS,
    api: { rateLimit: { perSecond: e.API_RATE_LIMIT, burst: e.API_RATE_BURST } },
    smtp: { url: e.SMTP_URL, fallbackUrl: e.SMTP_FALLBACK_URL, from: e.MAIL_FROM },
    telegram: { token: e.TELEGRAM_BOT_TOKEN, apiUrl: e.TELEGRAM_API_URL },
    vapid: { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY, subject: e.VAPID_SUBJECT },
    sms: {
      provider: e.SMS_PROVIDER,
      url: e.SMS_HTTP_URL,
      token: e.SMS_HTTP_TOKEN,
      maxSegments: e.SMS_MAX_SEGMENTS,
    },
    push: { ttlSeconds: e.PUSH_TTL_SECONDS },
    delivery: {
      // Telegram allows a bot about 30 messages a second: keep under it unless told otherwise.
      rateLimits: { telegram: 25, ...e.CHANNEL_RATE_LIMITS },
      retryPolicies: e.DELIVERY_RETRY_POLICIES,
      retryWindowMs: e.DELIVERY_RETRY_WINDOW,
      mandatoryCategories: e.MANDATORY_CATEGORIES,
    },
    defaultLocale: e.DEFAULT_LOCALE,
    logLevel: e.LOG_LEVEL,
  };
}

/** For process entry points: print the problem and exit instead of a stack trace. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
