// The whole stack as real processes, each one restartable in place: an embedded PostgreSQL (same data
// folder and port), the Temporal dev server (same --db-filename, so its state survives), the provider
// sinks (SMTP behind a TCP gate that can go down; Web Push, FCM and APNs; Slack, Discord, Teams; SMS
// through Twilio, whose status callbacks reach the API), Herald's worker and API under a supervisor.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { migrateDeploy } from '../tools/local-stack/migrate.js';
import {
  ensureDatabase,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../tools/local-stack/postgres.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer, type TemporalServer } from '../tools/local-stack/temporal-server.js';
import { writeWorkflowBundle } from '../src/workers/create-workers.js';
import { createBrowserSubscription } from '../tools/fakes/push-endpoint.js';
import {
  chatAndTwilioEnv,
  heraldProcessEnv,
  nativePushEnv,
  sinkCertificates,
  startSinks,
  stopSinks,
  type Sinks,
} from '../tools/fakes/sinks.js';
import { startTcpGate, type TcpGate } from '../tools/fakes/tcp-gate.js';
import { startSupervised, type SupervisedProcess } from './supervised.js';

export const CHAOS_API_KEY = 'chaos-key-0123456789abcdef';
const TELEGRAM_TOKEN = '123456:chaos-token';
const DATABASE = 'herald_chaos';

/** Recipient i's addresses name i, so every receipt at a sink names its notification. */
export const recipientOf = {
  externalId: (i: number) => `chaos-${i}`,
  email: (i: number) => `u${i}@chaos.test`,
  telegram: (i: number) => String(1_000_000 + i),
  phone: (i: number) => `+1555${String(i).padStart(7, '0')}`,
  /** Where push reaches recipient i: a third each have a browser, an Android phone (FCM), an iPhone (APNs). */
  pushTarget: (i: number): PushTarget => PUSH_TARGETS[i % PUSH_TARGETS.length]!,
  pushPath: (i: number) => `/push/u${i}`,
  /** Shaped as the providers' tokens are (FCM: 32+ URL-safe characters; APNs: 32+ bytes in hex). */
  fcmToken: (i: number) => `chaos-fcm-${String(i).padStart(22, '0')}`,
  apnsToken: (i: number) => String(i).padStart(64, '0'),
  slack: (i: number) => `U${String(i).padStart(7, '0')}`,
  discordWebhookId: (i: number) => String(1_000_000 + i),
  teamsWorkflowId: (i: number) => String(i).padStart(32, '0'),
};

/**
 * One push target per recipient, so each provider's bursts are met by notifications that only it can
 * deliver: a user with a browser and a phone is delivered when either accepts (docs/channels.md).
 */
export const PUSH_TARGETS = ['browser', 'fcm', 'apns'] as const;
export type PushTarget = (typeof PUSH_TARGETS)[number];

export interface ChaosStackOptions {
  dir: string;
  /** Short retry policies keep a run finite: DELIVERY_RETRY_POLICIES. */
  retryPolicies: Record<string, unknown>;
  log: (line: string) => void;
}

export interface ChaosStack {
  sinks: Sinks;
  smtpGate: TcpGate;
  pool: pg.Pool;
  apiUrl: string;
  worker: SupervisedProcess;
  api: SupervisedProcess;
  restartPostgres(downMs: number): Promise<void>;
  restartTemporal(downMs: number): Promise<void>;
  seedRecipients(n: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const indexes = (n: number) => Array.from({ length: n }, (_, i) => i);

/** POST /v1/users/:id/push-devices for recipient i's phone (FCM or APNs). */
async function registerPhone(apiUrl: string, i: number): Promise<void> {
  const provider = recipientOf.pushTarget(i);
  const token = provider === 'fcm' ? recipientOf.fcmToken(i) : recipientOf.apnsToken(i);
  const res = await fetch(`${apiUrl}/v1/users/${recipientOf.externalId(i)}/push-devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CHAOS_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider, token }),
  });
  if (res.status !== 201)
    throw new Error(`registering ${provider} device of #${i}: ${res.status} ${await res.text()}`);
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const { dir, log } = options;
  mkdirSync(dir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    const pgPort = await freePort();
    const pgDir = path.join(dir, 'postgres');
    let postgres: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
    stops.push(() => postgres.stop());
    await ensureDatabase(postgres.serverUrl, DATABASE);
    const databaseUrl = postgres.databaseUrl(DATABASE);
    await migrateDeploy(databaseUrl);
    log(`embedded PostgreSQL on port ${pgPort}`);

    const temporalPort = await freePort();
    const temporalDb = path.join(dir, 'temporal.db');
    const startTemporal = () => startTemporalServer({ port: temporalPort, dbFile: temporalDb });
    let temporal: TemporalServer = await startTemporal();
    stops.push(() => temporal.stop());
    log(`Temporal dev server at ${temporal.address} (${temporalDb})`);

    const sinks = await startSinks(TELEGRAM_TOKEN);
    const smtpGate = await startTcpGate(sinks.smtp.port);
    stops.push(async () => {
      await smtpGate.close();
      await stopSinks(sinks);
    });
    // The push, Discord and Teams fakes' certificates, trusted as their providers' would be.
    const caFile = path.join(dir, 'sinks-ca.pem');
    writeFileSync(caFile, sinkCertificates(sinks));
    // Built once, as the Dockerfile does: a restarted worker loads it instead of bundling.
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundlePath);

    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env: Record<string, string> = {
      ...heraldProcessEnv({
        databaseUrl,
        temporalAddress: temporal.address,
        apiKey: CHAOS_API_KEY,
        mailFrom: 'Herald <herald@chaos.test>',
        telegramToken: TELEGRAM_TOKEN,
        sinks,
        caFile,
        bundlePath,
        // Through the gate, so "down" closes the port as an outage would.
        smtpUrl: `smtp://127.0.0.1:${smtpGate.port}`,
      }),
      ...chatAndTwilioEnv(sinks, { publicUrl: apiUrl }),
      ...nativePushEnv(sinks),
      PORT: String(apiPort),
      DELIVERY_RETRY_POLICIES: JSON.stringify(options.retryPolicies),
      // A delivery refused for good (a 410 push) closes its notification soon instead of in 7 days.
      DELIVERY_RETRY_WINDOW: '2s',
    };
    const logDir = path.join(dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const worker = await startSupervised({
      name: 'worker',
      entry: 'src/workers/main.ts',
      env,
      readyLine: /"msg":"worker started"/,
      logDir,
      log,
    });
    stops.push(() => worker.stop());
    const api = await startSupervised({
      name: 'api',
      entry: 'src/api/main.ts',
      env,
      readyLine: /API listening/,
      logDir,
      log,
    });
    stops.push(() => api.stop());

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    // PostgreSQL restarts under the suite: an idle client's broken connection must not crash it.
    pool.on('error', () => undefined);
    stops.push(() => pool.end());
    const subscription = createBrowserSubscription(sinks.push.origin).subscription;

    return {
      sinks,
      smtpGate,
      pool,
      apiUrl,
      worker,
      api,
      async restartPostgres(downMs) {
        await postgres.stop();
        await sleep(downMs);
        postgres = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
      },
      async restartTemporal(downMs) {
        await temporal.stop();
        await sleep(downMs);
        temporal = await startTemporal();
      },
      async seedRecipients(n) {
        await pool.query(
          `INSERT INTO users (id, external_id, updated_at)
           SELECT gen_random_uuid(), 'chaos-' || i, now() FROM generate_series(0, $1::int - 1) AS i`,
          [n],
        );
        // Every address names the recipient's index, so a receipt at a sink names its notification.
        await pool.query(
          `INSERT INTO contacts (user_id, channel, address, updated_at)
           SELECT u.id, c.channel, c.address, now()
           FROM generate_series(0, $1::int - 1) AS i
           JOIN users u ON u.external_id = 'chaos-' || i
           CROSS JOIN LATERAL (VALUES
             ('email'::"Channel", 'u' || i || '@chaos.test'),
             ('sms'::"Channel", '+1555' || lpad(i::text, 7, '0')),
             ('telegram'::"Channel", (1000000 + i)::text),
             ('slack'::"Channel", 'U' || lpad(i::text, 7, '0'))) AS c(channel, address)`,
          [n],
        );
        // Webhook URLs carry a token of the fake's: each is made there, its id naming the recipient.
        const webhooks = Array.from({ length: n }, (_, i) => [
          sinks.discord.createWebhook(recipientOf.discordWebhookId(i)),
          sinks.teams.createWebhook(recipientOf.teamsWorkflowId(i)),
        ]);
        await pool.query(
          `INSERT INTO contacts (user_id, channel, address, updated_at)
           SELECT u.id, c.channel, c.address, now()
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(discord, teams, i)
           JOIN users u ON u.external_id = 'chaos-' || (w.i - 1)
           CROSS JOIN LATERAL (VALUES
             ('discord'::"Channel", w.discord),
             ('teams'::"Channel", w.teams)) AS c(channel, address)`,
          [webhooks.map(([discord]) => discord), webhooks.map(([, teams]) => teams)],
        );
        const browsers = indexes(n).filter((i) => recipientOf.pushTarget(i) === 'browser');
        await pool.query(
          `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth)
           SELECT gen_random_uuid(), u.id, $2 || '/push/u' || i, $3, $4
           FROM unnest($1::int[]) AS i JOIN users u ON u.external_id = 'chaos-' || i`,
          [browsers, sinks.push.origin, subscription.keys.p256dh, subscription.keys.auth],
        );
        // Phones are registered as apps register them: through the API.
        const phones = indexes(n).filter((i) => recipientOf.pushTarget(i) !== 'browser');
        for (let start = 0; start < phones.length; start += 16)
          await Promise.all(phones.slice(start, start + 16).map((i) => registerPhone(apiUrl, i)));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
