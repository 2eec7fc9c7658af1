import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { after, before } from 'node:test';
import { startSmtpSink, type SmtpSink } from '../../tools/fakes/smtp-sink.js';
import { terminateWorkflows } from '../../tools/local-stack/temporal-server.js';
import { createApp } from '../../src/api/app.js';
import type { UnknownKeyLimit } from '../../src/api/auth.js';
import { codecServerOptions } from '../../src/api/codec.js';
import { preferenceCenterOptions } from '../../src/api/preference-center.js';
import { twilioStatusOptions } from '../../src/api/twilio.js';
import { createInboxHub, type InboxHub } from '../../src/api/inbox/hub.js';
import { inboxOptions } from '../../src/api/inbox/routes.js';
import { closeChannels } from '../../src/activities/channels/registry.js';
import { heraldDataConverter } from '../../src/platform/codec.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createDb, type Db } from '../../src/store/db.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { serveMetrics, type MetricsServer } from '../../src/platform/metrics.js';
import { connectTemporalClient } from '../../src/platform/temporal-client.js';
import {
  ALL_QUEUES,
  createWorkers,
  workflowsPath,
  WORKFLOW_INTERCEPTOR_MODULES,
  type QueueName,
} from '../../src/workers/create-workers.js';

export const TEST_API_KEY = 'test-key-0123456789abcdef';

/** The shared parts `npm test` started (test/run.ts); running a file alone needs them too. */
export function testEnv(extra: Record<string, string | undefined> = {}): Config {
  const databaseUrl = process.env.HERALD_TEST_DATABASE_URL;
  const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress) {
    throw new Error(
      'Run the suite with `npm test` (or `npx tsx test/run.ts <file>`): it starts PostgreSQL and Temporal',
    );
  }
  return loadConfig({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    API_KEYS: TEST_API_KEY,
    LOG_LEVEL: 'silent',
    // The local sinks (webhook receivers, the push endpoint) listen on 127.0.0.1: the one exception.
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    ...extra,
  });
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/**
 * The workflow bundle as production builds it (the tracing interceptors in), once per test process (once
 * more with a failure converter, for encryption).
 */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundleWithSourceMap> {
  const key = failureConverterPath ?? '';
  if (!bundles.has(key))
    bundles.set(
      key,
      bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
        failureConverterPath,
        logger: new DefaultLogger('ERROR'),
      }),
    );
  return bundles.get(key)!;
}

let runtimeInstalled = false;
/**
 * The SDK's own logs, and expected activity failures (tests of retries), would drown the test report:
 * only errors show. Installed on first use, since a live runtime keeps the test process running.
 */
export function installTestRuntime(
  /** Another installation, such as the workers' own logging (a test that reads the SDK's logs). */
  install: () => void = () =>
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    }),
): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  install();
}

export interface RunningStack {
  config: Config;
  db: Db;
  temporal: Client;
  apiUrl: string;
  /** The API's Prometheus endpoint, on its own listener as in src/api/main.ts (API_METRICS_PORT). */
  metricsUrl: string;
  /** The API's inbox streams, when INBOX_SECRET is set. */
  inboxHub?: InboxHub;
  /** fetch against the API with the test key. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/** Herald's own processes in this test process: workers on the given queues and the API on a free port. */
export async function startHerald(
  config: Config,
  options: {
    queues?: readonly QueueName[];
    api?: boolean;
    ca?: string;
    logger?: Logger;
    /** Apply API_RATE_LIMIT and API_RATE_BURST, as the API's main does (tests leave them off by default). */
    rateLimit?: boolean;
    /** In place of the default limit on unknown API keys per client address. */
    unknownKeyLimit?: UnknownKeyLimit;
    /** A workflow bundle other than the one built in this process, such as a prebuilt file. */
    workflowBundle?: WorkerOptions['workflowBundle'];
    /** The API's port, when PUBLIC_URL must name it (providers calling back); a free one otherwise. */
    port?: number;
  } = {},
): Promise<RunningStack> {
  installTestRuntime();
  const db = createDb(config.databaseUrl);
  const logger = options.logger ?? createLogger('test', 'silent');
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const temporal = await connectTemporalClient(config);
  const { workers, channels } = await createWorkers({
    config,
    connection,
    temporal,
    db,
    queues: options.queues ?? ALL_QUEUES,
    workflowBundle:
      options.workflowBundle ??
      (await workflowBundle(heraldDataConverter(config.codec).failureConverterPath)),
    ca: options.ca,
    logger,
  });
  const running = workers.map((worker) => worker.run());

  let server: Server | undefined;
  let apiUrl = '';
  let metrics: MetricsServer | undefined;
  let inboxHub: (InboxHub & { ready: Promise<void> }) | undefined;
  if (options.api !== false) {
    const inbox = inboxOptions(config);
    inboxHub = inbox && createInboxHub({ db, databaseUrl: config.databaseUrl, logger });
    await inboxHub?.ready;
    const app = createApp({
      db,
      temporal,
      logger,
      apiKeys: config.apiKeys,
      vapidPublicKey: config.vapid.publicKey,
      telegram: config.telegram,
      codecServer: codecServerOptions(config),
      preferenceCenter: preferenceCenterOptions(config),
      outbound: config.outbound,
      twilioStatus: twilioStatusOptions(config),
      inbox: inbox && inboxHub && { ...inbox, hub: inboxHub },
      categoryPriorities: config.categoryPriorities,
      ...(options.rateLimit ? { rateLimit: config.api.rateLimit } : {}),
      ...(options.unknownKeyLimit ? { unknownKeyLimit: options.unknownKeyLimit } : {}),
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    metrics = await serveMetrics({ host: '127.0.0.1', port: 0 });
  }

  return {
    config,
    db,
    temporal,
    apiUrl,
    metricsUrl: metrics?.url ?? '',
    inboxHub,
    api(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TEST_API_KEY}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(apiUrl + path, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
      });
    },
    async stop() {
      await inboxHub?.close();
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server!.close(resolve));
      }
      await metrics?.close();
      for (const worker of workers) worker.shutdown();
      await Promise.all(running);
      await closeChannels(channels);
      await temporal.connection.close();
      await connection.close();
      await db.$disconnect();
    },
  };
}

/** Polls until the check returns a value, or fails after the timeout with the last value seen. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A notification's status, as GET /v1/notifications/:id reports it. */
export async function notificationStatus(herald: RunningStack, id: string): Promise<string> {
  return ((await (await herald.api(`/v1/notifications/${id}`)).json()) as { status: string }).status;
}

/** Polls the API until the notification has this status. */
export const untilStatus = (herald: RunningStack, id: string, status: string) =>
  eventually(async () => (await notificationStatus(herald, id)) === status, {
    what: `${id} to be ${status}`,
  });

let counter = 0;
/** An externalId no other test uses (tests share one database). */
export const uniqueId = (prefix = 'user') =>
  `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter++}`;

/** The parts `useEmailStack` runs; filled in before the tests of the calling `describe` start. */
export interface EmailStack {
  smtp: SmtpSink;
  herald: RunningStack;
}

/** Registers before/after hooks that run an SMTP sink and Herald (workers and API) delivering to it. */
export function useEmailStack(
  extra: Record<string, string> = {},
  options: { rateLimit?: boolean } = {},
): EmailStack {
  const stack = {} as EmailStack;
  before(async () => {
    stack.smtp = await startSmtpSink();
    stack.herald = await startHerald(
      testEnv({ SMTP_URL: stack.smtp.url, MAIL_FROM: 'Herald <herald@example.test>', ...extra }),
      options,
    );
  });
  after(async () => {
    await stack.herald?.stop();
    await stack.smtp?.close();
  });
  return stack;
}

/**
 * Terminates the workflows still running that started since `since` (this file's): they would otherwise
 * wait on queues and run under a later test's workers. Older ones are other files' business, and may be
 * sealed with keys this client does not hold.
 */
export async function terminateWorkflowsSince(
  temporal: Client,
  since: Date,
  reason: string,
): Promise<number> {
  const query = `ExecutionStatus = "Running" AND StartTime >= "${since.toISOString()}"`;
  return terminateWorkflows(temporal.workflowService, query, reason, {
    namespace: temporal.options.namespace,
  });
}
