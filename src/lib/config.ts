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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Env = z.infer<typeof schema>;

export interface Config {
  databaseUrl: string;
  temporal: { address: string; namespace: string };
  port: number;
  apiKeys: string[];
  smtp: { url?: string; fallbackUrl?: string; from: string };
  telegram: { token?: string; apiUrl: string };
  vapid: { publicKey?: string; privateKey?: string; subject: string };
  sms: { provider?: 'http'; url?: string; token?: string };
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
    smtp: { url: e.SMTP_URL, fallbackUrl: e.SMTP_FALLBACK_URL, from: e.MAIL_FROM },
    telegram: { token: e.TELEGRAM_BOT_TOKEN, apiUrl: e.TELEGRAM_API_URL },
    vapid: { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY, subject: e.VAPID_SUBJECT },
    sms: { provider: e.SMS_PROVIDER, url: e.SMS_HTTP_URL, token: e.SMS_HTTP_TOKEN },
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
