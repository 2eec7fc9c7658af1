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

const positiveInt = z.coerce
  .number({ message: 'must be a whole number, at least 1' })
  .int({ message: 'must be a whole number, at least 1' })
  .min(1, { message: 'must be a whole number, at least 1' });

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

/** An AES-256 key for payload encryption, named by the id each payload it seals carries. */
export interface CodecKey {
  id: string;
  key: Buffer;
}
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** `2026-11:<base64 of 32 bytes>,2026-05:<...>`. Messages name the id, never the key. */
const codecKeys = z.string().transform((value, ctx) => {
  const keys: CodecKey[] = [];
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const colon = item.indexOf(':');
    const id = item.slice(0, Math.max(colon, 0)).trim();
    const encoded = item.slice(colon + 1).trim();
    const key = Buffer.from(encoded, 'base64');
    const problem = !KEY_ID.test(id)
      ? `each entry must be id:base64key, the id 1-64 characters of A-Z a-z 0-9 . _ - (entry ${keys.length + 1})`
      : !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded) || key.length !== 32
        ? `key "${id}" must be the base64 of exactly 32 bytes (openssl rand -base64 32)`
        : keys.some((k) => k.id === id)
          ? `key id "${id}" is listed twice`
          : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must list at least one id:base64key' });
    return z.NEVER;
  }
  return keys;
});
/** Browser origins such as `http://127.0.0.1:8233`: scheme, host and port, no path. */
const origins = list.refine(
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
const categories = list.refine((items) => items.every((item) => /^[a-z0-9][a-z0-9_.-]{0,63}$/.test(item)), {
  message: 'must be comma-separated lowercase categories such as billing,news',
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
  TELEGRAM_WEBHOOK_URL: url(['https:']).optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, {
      message: 'must be 16 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram sends it back as a header)',
    })
    .optional(),
  TELEGRAM_BOT_USERNAME: z
    .string()
    .regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, { message: 'must be a bot username such as herald_bot' })
    .transform((name) => name.replace(/^@/, ''))
    .optional(),
  TELEGRAM_LINK_TTL: duration.default(15 * 60_000),
  TELEGRAM_BOT_RATE_LIMIT: z.coerce
    .number({ message: 'must be a whole number of messages a minute, at least 1' })
    .int({ message: 'must be a whole number of messages a minute, at least 1' })
    .min(1, { message: 'must be a whole number of messages a minute, at least 1' })
    .default(20),
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
  WEBHOOK_RETRY_FOR: duration.default(24 * 3600_000),
  WEBHOOK_TIMEOUT: duration.default(10_000),
  CODEC_KEYS: codecKeys.optional(),
  CODEC_ACTIVE_KEY_ID: z
    .string()
    .regex(KEY_ID, { message: 'must be a key id listed in CODEC_KEYS' })
    .optional(),
  CODEC_AUTH_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{16,256}$/, {
      message: 'must be 16 to 256 characters of A-Z, a-z, 0-9, ., _, ~ and - (it may appear in a URL path)',
    })
    .optional(),
  CODEC_CORS_ORIGINS: origins.default(['http://localhost:8233', 'http://127.0.0.1:8233']),
  API_RATE_LIMIT: z.coerce
    .number({ message: 'must be a positive number of requests per second' })
    .positive({ message: 'must be a positive number of requests per second' })
    .default(50),
  API_RATE_BURST: z.coerce
    .number({ message: 'must be a whole number of requests, at least 1' })
    .int({ message: 'must be a whole number of requests, at least 1' })
    .min(1, { message: 'must be a whole number of requests, at least 1' })
    .default(100),
  WORKER_METRICS_PORT: port.optional(),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  WORKER_ACTIVITY_CONCURRENCY: positiveInt.optional(),
  WORKER_WORKFLOW_TASK_CONCURRENCY: positiveInt.optional(),
  WORKER_CACHED_WORKFLOWS: positiveInt.optional(),
  DATABASE_POOL_SIZE: positiveInt.optional(),
  DEFAULT_LOCALE: z.string().min(2).default('en'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  PREFERENCES_SECRET: z
    .string()
    .min(32, { message: 'must be at least 32 characters, such as the output of openssl rand -base64 32' })
    .optional(),
  PREFERENCES_LINK_TTL: duration.default(7 * 24 * 3600_000),
  PREFERENCE_CATEGORIES: categories.default([]),
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
  worker: {
    /** Where the worker serves GET /metrics for Prometheus; unset means it serves none. */
    metrics?: { host: string; port: number };
    /** A workflow bundle built ahead of time (src/workers/bundle-workflows.ts); unset: bundled at start. */
    workflowBundlePath?: string;
    /** Temporal worker options (src/workers/tuning.ts); unset ones take the tuned defaults there. */
    activityConcurrency?: number;
    workflowTaskConcurrency?: number;
    cachedWorkflows?: number;
  };
  /** Connections the process's Prisma client may hold; unset: 10, or 25 in a worker (src/workers/tuning.ts). */
  databasePoolSize?: number;
  smtp: { url?: string; fallbackUrl?: string; from: string };
  telegram: {
    token?: string;
    apiUrl: string;
    /** Webhook mode when set: Telegram POSTs updates to the API's /telegram/webhook; else the bot long-polls. */
    webhookUrl?: string;
    /** Telegram echoes it in X-Telegram-Bot-Api-Secret-Token; the webhook route refuses any other. */
    webhookSecret?: string;
    /** For t.me deep links; asked of Telegram (getMe) when unset. */
    botUsername?: string;
    /** How long a link token from POST /v1/users/:id/telegram-link stays usable. */
    linkTtlMs: number;
    /** Messages (and button taps) a chat may send the bot a minute; more get a polite refusal. */
    rateLimitPerMinute: number;
  };
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
  webhooks: {
    /** How long an event keeps being retried until its receiver answers 2xx. */
    retryForMs: number;
    /** How long one POST may take before it counts as failed. */
    timeoutMs: number;
  };
  codec: {
    /** AES-256-GCM keys for Temporal payloads; encryption is on when there is one. */
    keys: CodecKey[];
    /** The key new payloads are sealed with; every listed key still opens old ones (rotation). */
    activeKeyId?: string;
    /** The codec server on the API (/codec) for the Temporal UI and CLI; it is off without a token. */
    authToken?: string;
    /** Browser origins (the Temporal UI) allowed to call the codec server. */
    corsOrigins: string[];
  };
  /** Templates fall back to this locale when the user's has no translation. */
  defaultLocale: string;
  /** Where people reach the API (no trailing slash): the base of preference and unsubscribe links. */
  publicUrl: string;
  preferences: {
    /** Signs preference-page and unsubscribe links (HMAC-SHA256); the preference center is off without it. */
    secret?: string;
    /** How long a preference-page link works. */
    linkTtlMs: number;
    /** Categories the page always offers, besides those the user has rules or notifications in. */
    categories: string[];
  };
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
  if (e.TELEGRAM_WEBHOOK_URL && !e.TELEGRAM_WEBHOOK_SECRET) {
    problems.push({
      variable: 'TELEGRAM_WEBHOOK_SECRET',
      message: 'is required when TELEGRAM_WEBHOOK_URL is set',
    });
  }
  if (e.TELEGRAM_WEBHOOK_URL && !e.TELEGRAM_BOT_TOKEN) {
    problems.push({
      variable: 'TELEGRAM_BOT_TOKEN',
      message: 'is required when TELEGRAM_WEBHOOK_URL is set',
    });
  }
  if (e.CODEC_ACTIVE_KEY_ID && !e.CODEC_KEYS?.some((k) => k.id === e.CODEC_ACTIVE_KEY_ID)) {
    problems.push({ variable: 'CODEC_ACTIVE_KEY_ID', message: 'must be one of the key ids in CODEC_KEYS' });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    databaseUrl: e.DATABASE_URL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
    port: e.PORT,
    apiKeys: e.API_KEYS,
    api: { rateLimit: { perSecond: e.API_RATE_LIMIT, burst: e.API_RATE_BURST } },
    worker: {
      metrics:
        e.WORKER_METRICS_PORT === undefined
          ? undefined
          : { host: e.WORKER_METRICS_HOST, port: e.WORKER_METRICS_PORT },
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
      activityConcurrency: e.WORKER_ACTIVITY_CONCURRENCY,
      workflowTaskConcurrency: e.WORKER_WORKFLOW_TASK_CONCURRENCY,
      cachedWorkflows: e.WORKER_CACHED_WORKFLOWS,
    },
    databasePoolSize: e.DATABASE_POOL_SIZE,
    smtp: { url: e.SMTP_URL, fallbackUrl: e.SMTP_FALLBACK_URL, from: e.MAIL_FROM },
    telegram: {
      token: e.TELEGRAM_BOT_TOKEN,
      apiUrl: e.TELEGRAM_API_URL,
      webhookUrl: e.TELEGRAM_WEBHOOK_URL,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
      botUsername: e.TELEGRAM_BOT_USERNAME,
      linkTtlMs: e.TELEGRAM_LINK_TTL,
      rateLimitPerMinute: e.TELEGRAM_BOT_RATE_LIMIT,
    },
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
    webhooks: { retryForMs: e.WEBHOOK_RETRY_FOR, timeoutMs: e.WEBHOOK_TIMEOUT },
    codec: {
      keys: e.CODEC_KEYS ?? [],
      activeKeyId: e.CODEC_ACTIVE_KEY_ID ?? e.CODEC_KEYS?.[0]?.id,
      authToken: e.CODEC_AUTH_TOKEN,
      corsOrigins: e.CODEC_CORS_ORIGINS,
    },
    defaultLocale: e.DEFAULT_LOCALE,
    publicUrl: (e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
    preferences: {
      secret: e.PREFERENCES_SECRET,
      linkTtlMs: e.PREFERENCES_LINK_TTL,
      categories: e.PREFERENCE_CATEGORIES,
    },
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
