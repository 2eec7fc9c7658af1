// The development stack under one supervisor: Temporal dev server, PostgreSQL, an SMTP sink with a web
// UI, Herald's worker and API (and the bot, with a token). Each part that Herald's variables point
// elsewhere (TEMPORAL_ADDRESS, DATABASE_URL, SMTP_URL) is used instead of started.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { loadConfig, ConfigError } from '../../src/platform/config.js';
import { migrateDeploy } from './migrate.js';
import { projectRoot } from './paths.js';
import { ensureDatabase, startEmbeddedPostgres } from './postgres.js';
import { freePort, isPortFree, waitForPort } from './ports.js';
import { startTemporalServer } from './temporal-server.js';
import { Supervisor, prefixer } from './supervisor.js';
import { startInboxDemo } from './inbox-demo.js';

const env = process.env;
const dataDir = path.resolve(env.HERALD_DATA_DIR ?? path.join(projectRoot, '.data'));
const statePath = path.join(dataDir, 'dev.json');
const intEnv = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

interface DevState {
  postgresPort?: number;
  apiKey?: string;
}

const supervisor = new Supervisor();
const say = prefixer('dev');

async function main(): Promise<void> {
  // Bad configuration stops start-up before anything is started (DATABASE_URL may still be ours to make).
  const { port: apiPort } = loadConfig({
    ...env,
    DATABASE_URL: env.DATABASE_URL ?? 'postgresql://127.0.0.1/herald',
  });
  mkdirSync(dataDir, { recursive: true });
  const state: DevState = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
  const childEnv: Record<string, string> = {};
  const banner: [string, string][] = [];

  // Payload encryption: CODEC_KEYS if set, else a key generated once for this .data/ and kept there
  // (histories sealed with it cannot be read without it). The Temporal UI decrypts through the API's
  // codec server, the token in its path.
  if (!env.CODEC_KEYS || !env.CODEC_AUTH_TOKEN) {
    const codecPath = path.join(dataDir, 'codec.json');
    if (!existsSync(codecPath)) {
      const generated = {
        keys: `dev-1:${randomBytes(32).toString('base64')}`,
        authToken: randomBytes(24).toString('base64url'),
      };
      writeFileSync(codecPath, JSON.stringify(generated, null, 2) + '\n', { mode: 0o600 });
    }
    const codec = JSON.parse(readFileSync(codecPath, 'utf8')) as { keys: string; authToken: string };
    childEnv.CODEC_KEYS = env.CODEC_KEYS || codec.keys;
    childEnv.CODEC_AUTH_TOKEN = env.CODEC_AUTH_TOKEN || codec.authToken;
  }
  const codecEndpoint = `http://127.0.0.1:${apiPort}/codec/${env.CODEC_AUTH_TOKEN || childEnv.CODEC_AUTH_TOKEN}`;

  // Temporal
  let temporalAddress = env.TEMPORAL_ADDRESS;
  if (temporalAddress) {
    banner.push(['Temporal', `${temporalAddress} (TEMPORAL_ADDRESS)`]);
  } else {
    const port = intEnv('HERALD_TEMPORAL_PORT', 7233);
    const uiPort = intEnv('HERALD_TEMPORAL_UI_PORT', 8233);
    for (const p of [port, uiPort]) {
      if (!(await isPortFree(p)))
        throw new Error(`port ${p} is taken: stop what holds it, or set TEMPORAL_ADDRESS to use that server`);
    }
    const logTemporal = prefixer('temporal');
    say(
      `starting the Temporal dev server on ${port} (UI ${uiPort}), data in ${path.join(dataDir, 'temporal.db')}`,
    );
    const server = await startTemporalServer({
      port,
      uiPort,
      dbFile: path.join(dataDir, 'temporal.db'),
      namespace: env.TEMPORAL_NAMESPACE,
      extraArgs: ['--ui-codec-endpoint', codecEndpoint],
      // The dev server's own warnings (pollers closing at shutdown and such) are noise here.
      onOutput: (line) =>
        (!line.startsWith('time=') || /level=(ERROR|FATAL)/.test(line)) && logTemporal(line),
    });
    supervisor.adopt('temporal', server.process, () => server.stop());
    temporalAddress = server.address;
    banner.push(['Temporal UI', server.uiUrl!]);
    // The UI may be opened by either name; the codec server answers both.
    if (!env.CODEC_CORS_ORIGINS)
      childEnv.CODEC_CORS_ORIGINS = `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`;
  }
  childEnv.TEMPORAL_ADDRESS = temporalAddress;

  // PostgreSQL
  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl) {
    banner.push(['Database', 'DATABASE_URL']);
  } else {
    const port =
      state.postgresPort && (await isPortFree(state.postgresPort)) ? state.postgresPort : await freePort();
    state.postgresPort = port;
    say(`starting the embedded PostgreSQL on ${port}, data in ${path.join(dataDir, 'postgres')}`);
    const log = prefixer('postgres');
    // initdb and the server are chatty; only trouble is worth showing.
    const onLog = (line: string) => /ERROR|FATAL|PANIC|WARNING|failed/i.test(line) && log(line);
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port, onLog });
    supervisor.onStop('postgres', () => pg.stop());
    await ensureDatabase(pg.serverUrl, 'herald');
    databaseUrl = pg.databaseUrl('herald');
    banner.push(['Database', databaseUrl.replace(/:[^:@/]+@/, ':***@')]);
  }
  childEnv.DATABASE_URL = databaseUrl;
  say('applying migrations (prisma migrate deploy)');
  await migrateDeploy(databaseUrl);

  // SMTP
  if (env.SMTP_URL) {
    banner.push(['Mail', 'SMTP_URL']);
  } else {
    const smtpPort = intEnv('HERALD_MAIL_SMTP_PORT', 1025);
    const webPort = intEnv('HERALD_MAIL_UI_PORT', 1080);
    const mailDir = path.join(dataDir, 'mail');
    mkdirSync(mailDir, { recursive: true });
    supervisor.spawn('mail', path.join(projectRoot, 'node_modules', '.bin', 'maildev'), [
      '--ip',
      '127.0.0.1',
      '--web-ip',
      '127.0.0.1',
      '--smtp',
      String(smtpPort),
      '--web',
      String(webPort),
      '--mail-directory',
      mailDir,
      '--silent',
    ]);
    await waitForPort(smtpPort);
    childEnv.SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
    banner.push(['Mail UI', `http://127.0.0.1:${webPort}`]);
  }

  // Outbound requests: webhook receivers and push endpoints on this machine are what a developer tries
  // first, so 127.0.0.1 and localhost are exceptions unless OUTBOUND_ALLOWED_HOSTS says otherwise.
  if (!env.OUTBOUND_ALLOWED_HOSTS) {
    childEnv.OUTBOUND_ALLOWED_HOSTS = '127.0.0.1,::1,localhost';
    banner.push(['Outbound', 'webhooks and push may reach 127.0.0.1 and localhost']);
  }

  // API key: API_KEYS if set, else one generated for this .data/ and kept there.
  if (!env.API_KEYS) {
    state.apiKey ??= `hk_dev_${randomBytes(24).toString('base64url')}`;
    childEnv.API_KEYS = state.apiKey;
  }
  writeFileSync(statePath, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });

  // Web Push: VAPID keys if set, else a pair generated once for this .data/ and kept there (browsers
  // subscribed with the public key stop receiving pushes if it changes).
  if (!env.VAPID_PUBLIC_KEY && !env.VAPID_PRIVATE_KEY) {
    const vapidPath = path.join(dataDir, 'vapid.json');
    if (!existsSync(vapidPath)) {
      writeFileSync(vapidPath, JSON.stringify(webpush.generateVAPIDKeys(), null, 2) + '\n', { mode: 0o600 });
    }
    const vapid: webpush.VapidKeys = JSON.parse(readFileSync(vapidPath, 'utf8'));
    childEnv.VAPID_PUBLIC_KEY = vapid.publicKey;
    childEnv.VAPID_PRIVATE_KEY = vapid.privateKey;
    banner.push(['VAPID key', vapid.publicKey]);
  }

  // Preference center: PREFERENCES_SECRET if set, else one generated once for this .data/ and kept there
  // (a new secret would void the preference and unsubscribe links in emails already sent).
  if (!env.PREFERENCES_SECRET) {
    const preferencesPath = path.join(dataDir, 'preferences.json');
    if (!existsSync(preferencesPath)) {
      const generated = { secret: randomBytes(32).toString('base64url') };
      writeFileSync(preferencesPath, JSON.stringify(generated, null, 2) + '\n', { mode: 0o600 });
    }
    const preferences = JSON.parse(readFileSync(preferencesPath, 'utf8')) as { secret: string };
    childEnv.PREFERENCES_SECRET = preferences.secret;
  }

  // In-app inbox: INBOX_SECRET if set, else one generated once for this .data/ and kept there (a new
  // secret voids the tokens pages hold). The demo page embeds <herald-inbox> from an origin of its own.
  if (!env.INBOX_SECRET) {
    const inboxPath = path.join(dataDir, 'inbox.json');
    if (!existsSync(inboxPath)) {
      const generated = { secret: randomBytes(32).toString('base64url') };
      writeFileSync(inboxPath, JSON.stringify(generated, null, 2) + '\n', { mode: 0o600 });
    }
    childEnv.INBOX_SECRET = (JSON.parse(readFileSync(inboxPath, 'utf8')) as { secret: string }).secret;
  }
  const wantedDemoPort = intEnv('HERALD_INBOX_DEMO_PORT', 3100);
  const demoPort = (await isPortFree(wantedDemoPort)) ? wantedDemoPort : await freePort();
  const demoOrigin = `http://127.0.0.1:${demoPort}`;
  childEnv.INBOX_CORS_ORIGINS = [env.INBOX_CORS_ORIGINS, demoOrigin].filter(Boolean).join(',');

  // The worker is its own process: it serves its metrics on a port of its own. So does the API, apart
  // from its public port (which answers 404 for /metrics).
  if (!env.WORKER_METRICS_PORT) childEnv.WORKER_METRICS_PORT = String(await freePort());
  if (!env.API_METRICS_PORT) childEnv.API_METRICS_PORT = String(await freePort());

  // Herald's own processes read the same configuration, so it is checked once here first.
  const processEnv = { ...env, ...childEnv } as NodeJS.ProcessEnv;
  const config = loadConfig(processEnv);
  const tsx = ['--import', 'tsx'];
  supervisor.spawn('worker', process.execPath, [...tsx, 'src/workers/main.ts'], processEnv, {
    restart: true,
  });
  supervisor.spawn('api', process.execPath, [...tsx, 'src/api/main.ts'], processEnv, { restart: true });
  if (config.telegram.token) {
    supervisor.spawn('bot', process.execPath, [...tsx, 'src/bot/main.ts'], processEnv, { restart: true });
    banner.push([
      'Telegram bot',
      config.telegram.webhookUrl ? `webhook ${config.telegram.webhookUrl}` : 'long polling',
    ]);
  } else {
    banner.push(['Telegram bot', 'off (set TELEGRAM_BOT_TOKEN to start it)']);
  }

  const apiUrl = `http://127.0.0.1:${config.port}`;
  await waitForPort(config.port, 120_000);
  if (config.inbox.secret && config.apiKeys[0]) {
    const demo = await startInboxDemo({ port: demoPort, apiUrl, apiKey: config.apiKeys[0]! });
    supervisor.onStop('inbox demo', () => demo.close());
    banner.push(['Inbox demo', `${demo.url} (<herald-inbox> for the user dev-inbox-user)`]);
  }
  const workerMetrics = config.worker.metrics!;
  const apiMetrics = config.api.metrics!;
  banner.unshift(
    ['API', apiUrl],
    ['API docs', `${apiUrl}/docs`],
    ['API metrics', `http://${apiMetrics.host}:${apiMetrics.port}/metrics`],
    ['Worker metrics', `http://${workerMetrics.host}:${workerMetrics.port}/metrics`],
    ['Codec server', `${codecEndpoint} (Temporal UI: Data Encoder)`],
  );
  printBanner(banner, env.API_KEYS ? '(from API_KEYS)' : state.apiKey!);
}

function printBanner(rows: [string, string][], apiKey: string): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    'Herald is running',
    '',
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    `${'API key'.padEnd(width)}  ${apiKey}`,
    '',
    'Try it:',
    `  curl -s -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \\`,
    `    -d '{"externalId":"ada","email":"ada@example.com"}' ${rows[0]![1]}/v1/users`,
    '',
    'Ctrl-C stops everything; data stays in ' + path.relative(process.cwd(), dataDir || '.') || '.',
  ];
  const rule = '='.repeat(Math.max(...lines.map((l) => l.length)));
  console.log(['', rule, ...lines, rule, ''].join('\n'));
}

// `on`, not `once`: Ctrl-C reaches this process both from the terminal and from tools/dev.mjs.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void supervisor.shutdown(signal));
}

main().catch(async (error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `[dev] could not start: ${String(error)}`);
  await supervisor.shutdown('start-up failure', 1);
});
