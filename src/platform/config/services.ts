// Core settings: where Herald's database and Temporal are, the HTTP API, and the worker processes.
import { z } from 'zod';
import { defineConfigSlice, variable } from './define.js';
import { countOf, hostPort, list, listed, port, positiveInt, url } from './parsers.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServicesConfig {
  databaseUrl: string;
  temporal: { address: string; namespace: string };
  /** Connections the process's Prisma client may hold; unset: 10, or 25 in a worker (src/workers/tuning.ts). */
  databasePoolSize?: number;
  logLevel: LogLevel;
}

/**
 * Passwords that example files, images and tutorials use: the compose file's old default (`herald`, and
 * Temporal's `temporal`), PostgreSQL's image docs (`postgres`, `example`) and the usual placeholders.
 */
const WELL_KNOWN_PASSWORDS = new Set([
  'herald',
  'temporal',
  'postgres',
  'example',
  'password',
  'secret',
  'changeme',
  'admin',
  'root',
]);

/** Why a database URL's password is weak, if it is: empty (`user:@host`) or one everybody knows. */
function weakDatabasePassword(databaseUrl: string): string | undefined {
  const { password } = new URL(databaseUrl);
  // No password at all is not refused: PGPASSWORD, ~/.pgpass or a client certificate may supply one.
  if (password === '') return /^[^:]+:\/\/[^/@]*:@/.test(databaseUrl) ? 'has an empty password' : undefined;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // A stray % is not a well-known password either way.
  }
  return WELL_KNOWN_PASSWORDS.has(decoded.toLowerCase()) ? 'has a well-known default password' : undefined;
}

export const servicesConfig = defineConfigSlice({
  title: 'Database, Temporal and logs',
  variables: {
    DATABASE_URL: variable({
      description:
        "Herald's PostgreSQL database, `postgres://` or `postgresql://`. `npm run dev` starts an embedded one when it is unset.",
      parse: url(['postgres:', 'postgresql:']),
      required: true,
      secret: true,
    }),
    DATABASE_POOL_SIZE: variable({
      description: 'PostgreSQL connections one process may hold.',
      parse: positiveInt,
      whenUnset: '10; 25 in a worker',
    }),
    TEMPORAL_ADDRESS: variable({
      description: 'The Temporal frontend, `host:port`. `npm run dev` starts a dev server when it is unset.',
      parse: hostPort,
      default: '127.0.0.1:7233',
    }),
    TEMPORAL_NAMESPACE: variable({
      description: 'The Temporal namespace Herald runs its workflows in.',
      parse: z.string().min(1),
      default: 'default',
    }),
    LOG_LEVEL: variable({
      description: `The least severe log lines written: ${listed(LOG_LEVELS)}.`,
      parse: z.enum(LOG_LEVELS),
      default: 'info',
    }),
  },
  production: {
    description:
      'Production refuses a `DATABASE_URL` whose password is empty or well known (such as `herald`, `postgres` or `password`).',
    refuse: (v) => {
      const weakness = weakDatabasePassword(v.DATABASE_URL);
      return weakness ? [{ variable: 'DATABASE_URL', message: `${weakness}: set a strong one` }] : [];
    },
  },
  toConfig: (v): ServicesConfig => ({
    databaseUrl: v.DATABASE_URL,
    temporal: { address: v.TEMPORAL_ADDRESS, namespace: v.TEMPORAL_NAMESPACE },
    databasePoolSize: v.DATABASE_POOL_SIZE,
    logLevel: v.LOG_LEVEL,
  }),
});

export interface ApiConfig {
  port: number;
  apiKeys: string[];
  api: {
    /** Token bucket per API key, per API process: the sustained rate and the burst it may spend at once. */
    rateLimit: { perSecond: number; burst: number };
    /** Where the API serves GET /metrics for Prometheus (never on PORT); unset means it serves none. */
    metrics?: { host: string; port: number };
  };
  /** Where people reach the API (no trailing slash): the base of preference and unsubscribe links. */
  publicUrl: string;
}

const requestsPerSecond = 'must be a positive number of requests per second';
/** Production's shortest API key: `openssl rand -base64 32` makes 44 characters. */
export const PRODUCTION_API_KEY_LENGTH = 32;

export const apiConfig = defineConfigSlice({
  title: 'HTTP API',
  variables: {
    PORT: variable({ description: 'The port the HTTP API listens on.', parse: port, default: '3000' }),
    PUBLIC_URL: variable({
      description:
        'Where people reach the API (https in production): the base of the preference and unsubscribe links in emails, the API and the bot.',
      parse: url(['http:', 'https:']),
      whenUnset: '`http://127.0.0.1:<PORT>`',
    }),
    API_KEYS: variable({
      description:
        'Comma-separated keys accepted as `Authorization: Bearer <key>`, besides those stored hashed in the database (`npm run apikey`). `npm run dev` generates one when it is unset.',
      parse: list,
      whenUnset: 'none',
      secret: true,
    }),
    API_RATE_LIMIT: variable({
      description:
        'Requests a second each API key may make, per API process (a token bucket); more are answered 429.',
      parse: z.coerce.number({ message: requestsPerSecond }).positive({ message: requestsPerSecond }),
      default: '50',
    }),
    API_RATE_BURST: variable({
      description: 'Requests an API key may make at once after being idle (the size of its bucket).',
      parse: countOf('requests'),
      default: '100',
    }),
    API_METRICS_PORT: variable({
      description:
        "Port of the API's Prometheus `GET /metrics` (no authentication), a listener of its own: the public `PORT` answers 404 there. The API serves none without it. `npm run dev` picks a free one.",
      parse: port,
    }),
    API_METRICS_HOST: variable({
      description: "The address the API's metrics server binds to.",
      parse: z.string().min(1),
      default: '127.0.0.1',
    }),
  },
  production: {
    description: `Production refuses \`API_KEYS\` entries shorter than ${PRODUCTION_API_KEY_LENGTH} characters and a \`PUBLIC_URL\` that is unset or not https.`,
    refuse: (v) => [
      // Named by position: the message must not carry the key.
      ...(v.API_KEYS ?? []).flatMap((key, i) => {
        if (key.length >= PRODUCTION_API_KEY_LENGTH) return [];
        const message = `entry ${i + 1} is ${key.length} characters; production needs at least ${PRODUCTION_API_KEY_LENGTH} (openssl rand -base64 32)`;
        return [{ variable: 'API_KEYS', message }];
      }),
      ...(v.PUBLIC_URL && new URL(v.PUBLIC_URL).protocol === 'https:'
        ? []
        : [
            {
              variable: 'PUBLIC_URL',
              // The links built on it carry their token in the path.
              message: `${v.PUBLIC_URL ? 'must be https' : 'is required'} in production: the https URL people reach the API at`,
            },
          ]),
    ],
  },
  toConfig: (v): ApiConfig => ({
    port: v.PORT,
    apiKeys: v.API_KEYS ?? [],
    api: {
      rateLimit: { perSecond: v.API_RATE_LIMIT, burst: v.API_RATE_BURST },
      metrics:
        v.API_METRICS_PORT === undefined ? undefined : { host: v.API_METRICS_HOST, port: v.API_METRICS_PORT },
    },
    publicUrl: (v.PUBLIC_URL ?? `http://127.0.0.1:${v.PORT}`).replace(/\/+$/, ''),
  }),
});

export interface WorkerConfig {
  worker: {
    /** Where the worker serves GET /metrics for Prometheus; unset means it serves none. */
    metrics?: { host: string; port: number };
    /** A workflow bundle built ahead of time (src/workers/bundle-workflows.ts); unset: bundled at start. */
    workflowBundlePath?: string;
    /** Temporal worker options (src/workers/tuning.ts); unset ones take the tuned defaults there. */
    activityConcurrency?: number;
    workflowTaskConcurrency?: number;
    cachedWorkflows?: number;
    /** FAN_OUT_WINDOW (src/activities/fan-out-window.ts). */
    fanOutWindow?: number;
  };
}

export const workerConfig = defineConfigSlice({
  title: 'Workers',
  variables: {
    // Read by src/workers/main.ts itself (after --queues); defined here for the reference.
    HERALD_QUEUES: variable({
      description:
        'The task queues a worker process serves, comma-separated: `notifications`, `webhooks` and one per channel (`--queues` takes precedence). Each queue but `webhooks` brings its urgent twin (`notifications-urgent`, `email-urgent`, ...), where high-priority notifications run on slots of their own. A channel queue without a configured provider is skipped with a warning.',
      parse: list,
      whenUnset: 'all of them',
    }),
    WORKER_METRICS_PORT: variable({
      description:
        "Port of the worker's Prometheus `GET /metrics` (no authentication); the worker serves none without it. `npm run dev` picks a free one.",
      parse: port,
    }),
    WORKER_METRICS_HOST: variable({
      description: "The address the worker's metrics server binds to.",
      parse: z.string().min(1),
      default: '127.0.0.1',
    }),
    WORKFLOW_BUNDLE_PATH: variable({
      description:
        'A workflow bundle built ahead of time by `src/workers/bundle-workflows.ts`, which the worker runs (the image sets it).',
      parse: z.string().min(1),
      whenUnset: 'bundled at start',
    }),
    WORKER_ACTIVITY_CONCURRENCY: variable({
      description:
        'Activities one worker runs at once on each task queue it serves (`maxConcurrentActivityTaskExecutions`); see docs/benchmarks.md#isolation-priority-under-a-campaign.',
      parse: positiveInt,
      whenUnset: '20',
    }),
    WORKER_WORKFLOW_TASK_CONCURRENCY: variable({
      description:
        'Workflow tasks the notifications worker runs at once (`maxConcurrentWorkflowTaskExecutions`); see docs/benchmarks.md#isolation-priority-under-a-campaign.',
      parse: positiveInt,
      whenUnset: '8',
    }),
    WORKER_CACHED_WORKFLOWS: variable({
      description:
        'Workflows a worker keeps in memory (`maxCachedWorkflows`); an evicted one replays its history on its next task.',
      parse: positiveInt,
      whenUnset: "the SDK's (from the heap size)",
    }),
    FAN_OUT_WINDOW: variable({
      description:
        "How many of one bulk send's or broadcast's started notifications may wait for their first step at once; the fan-out starts more as they move on, so a campaign's backlog waits in PostgreSQL rather than ahead of urgent notifications in Temporal's queues (docs/broadcasts.md#pacing).",
      parse: positiveInt,
      whenUnset: '20',
    }),
  },
  toConfig: (v): WorkerConfig => ({
    worker: {
      metrics:
        v.WORKER_METRICS_PORT === undefined
          ? undefined
          : { host: v.WORKER_METRICS_HOST, port: v.WORKER_METRICS_PORT },
      workflowBundlePath: v.WORKFLOW_BUNDLE_PATH,
      activityConcurrency: v.WORKER_ACTIVITY_CONCURRENCY,
      workflowTaskConcurrency: v.WORKER_WORKFLOW_TASK_CONCURRENCY,
      cachedWorkflows: v.WORKER_CACHED_WORKFLOWS,
      fanOutWindow: v.FAN_OUT_WINDOW,
    },
  }),
});
