// The OpenAPI document against the running API, by schemathesis (property-based, from PyPI): no 5xx and
// no response the document does not describe; and a refused request changes nothing in the database.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import webpush from 'web-push';
import { SCHEMATHESIS_VERSION, schemathesisDir } from '../tools/ensure-tools.mjs';
import { NOTIFICATIONS_QUEUE } from '../src/workflows/definitions.js';
import { snapshotTables as snapshot } from './support/db-snapshot.js';
import {
  TEST_API_KEY,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';
import { INBOX_SECRET } from './support/inbox.js';

/**
 * Schemathesis checks every operation with invalid credentials, all from one address and as fast as the
 * API answers: the limit on unknown keys per address (1 a second, bursts of 20; test/apikey.test.ts
 * shows it) would answer some of them 429 rather than the 401 the check expects, depending on the pace.
 */
const SCHEMATHESIS_UNKNOWN_KEYS = { perSecond: 1000, burst: 1000 };

const WEBHOOK_SECRET = 'schemathesis-webhook-secret';
/** Examples per operation and phase: with ~40 operations the two runs take about two minutes on 2 cores. */
const MAX_EXAMPLES = 25;
const SEED = 20261121;

/**
 * The checks on every response, and ignored_auth: without the key, or with a wrong one, each /v1
 * route answers 401. Left out: positive_data_acceptance, since the document cannot say that a userId
 * must name an existing user (such requests are rightly refused). unsupported_method: a method the
 * document does not list for a path gets 405 with Allow.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'ignored_auth',
  'unsupported_method',
];

/** Runs the schemathesis CLI installed by tools/ensure-tools.mjs; resolves with its exit code and output. */
function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  if (!existsSync(path.join(schemathesisDir, 'schemathesis')))
    throw new Error(
      `schemathesis is not installed in ${schemathesisDir}: run node tools/ensure-tools.mjs --test`,
    );
  // Its working folder takes whatever it writes (it is told to keep no example database).
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'herald-schemathesis-'));
  const child = spawn('python3', ['-m', 'schemathesis.cli', ...args], {
    cwd,
    env: { ...process.env, PYTHONPATH: schemathesisDir, NO_COLOR: '1', COLUMNS: '120' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

/** `schemathesis run` against Herald's own document, with the test key and the webhook secret. */
function run(
  herald: RunningStack,
  args: string[],
  { checks = CHECKS, config }: { checks?: string[]; config?: string } = {},
) {
  return schemathesis([
    ...(config ? ['--config-file', config] : []),
    'run',
    `${herald.apiUrl}/openapi.json`,
    '--header',
    `Authorization: Bearer ${SCHEMATHESIS_KEY}`,
    '--header',
    `X-Telegram-Bot-Api-Secret-Token: ${WEBHOOK_SECRET}`,
    '--checks',
    checks.join(','),
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    '--generation-database',
    'none',
    '--request-timeout',
    '30',
    '--no-color',
    ...args,
  ]);
}

/** The CLI's own count of operations and test cases, and its closing line. */
const tally = (output: string) =>
  output
    .split('\n')
    .filter((line) => /Selected: |\d+ generated|={3,} .* in [\d.]+s ={3,}/.test(line))
    .map((line) => line.replace(/=+/g, '').trim())
    .join('; ');

/** The part of the CLI's report worth reading: failures, errors and the summary. */
function summary(output: string): string {
  const start = output.search(/={5,} (FAILURES|ERRORS) ={5,}/);
  return start >= 0 ? output.slice(start) : output.slice(-8000);
}

interface Seeds {
  users: string[];
  templates: string[];
  notifications: string[];
}

/** A user with a Telegram chat, a template, and two notifications: one scheduled, one delivering. */
async function seed(herald: RunningStack): Promise<Seeds> {
  const post = async (path: string, json: unknown, method = 'POST') => {
    const res = await herald.api(path, { method, json });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as { id: string };
  };
  const user = await post('/v1/users', {
    externalId: uniqueId('schemathesis'),
    email: 'seed@example.test',
    telegramChatId: '424242',
  });
  await post('/v1/templates/schemathesis-seed/en', { title: 'Hello {{name}}', body: 'Seeded' }, 'PUT');
  const scheduled = await post('/v1/notifications', {
    userId: user.id,
    category: 'billing',
    title: 'Later',
    body: 'Scheduled far ahead',
    sendAt: '2099-01-01T00:00:00Z',
  });
  const now = await post('/v1/notifications', {
    userId: user.id,
    category: 'billing',
    template: 'schemathesis-seed',
    data: { name: 'Ada' },
  });
  return { users: [user.id], templates: ['schemathesis-seed'], notifications: [scheduled.id, now.id] };
}

/**
 * A schemathesis config that puts the seeds among the generated values, so requests reach real
 * resources as well as missing ones. Deleting operations are left out: they would take the seeds away.
 */
function seedsConfig(seeds: Seeds): string {
  const use = (dictionary: keyof Seeds, probability: number) =>
    `{ dictionary = "${dictionary}", probability = ${probability} }`;
  const operations = (regex: string, parameters: Record<string, string>) =>
    [
      '[[operations]]',
      `include-operation-id-regex = "^(${regex})$"`,
      `parameters = { ${Object.entries(parameters)
        .map(([name, binding]) => `"${name}" = ${binding}`)
        .join(', ')} }`,
    ].join('\n');
  return [
    ...Object.entries(seeds).map(
      ([name, values]) => `[dictionaries.${name}]\nvalues = ${JSON.stringify(values)}`,
    ),
    operations('sendNotification', {
      'body.userId': use('users', 0.8),
      'body.template': use('templates', 0.8),
    }),
    operations('sendBulk', {
      'body.recipients[*]': use('users', 0.5),
      'body.template': use('templates', 0.8),
    }),
    operations('getNotification|cancelNotification|retryNotification', {
      'path.id': use('notifications', 0.8),
    }),
    operations(
      'getUser|updateUser|getPreferences|putPreferences|addPushSubscription|addPushDevice|createTelegramLink',
      {
        'path.id': use('users', 0.5),
      },
    ),
    operations('listNotifications', { 'query.userId': use('users', 0.5) }),
    operations('getTemplate|putTemplate', { 'path.key': use('templates', 0.5) }),
  ].join('\n\n');
}

const SCHEMATHESIS_KEY = 'schemathesis-key-0123456789abcdef';

describe(`the OpenAPI document, checked by schemathesis ${SCHEMATHESIS_VERSION}`, () => {
  const vapid = webpush.generateVAPIDKeys();
  // Every route is on: push (VAPID), the Telegram link and webhook, Twilio's status callback (which no
  // generated request can sign). No channel worker runs, so nothing generated here is ever delivered;
  // the Telegram API URL leads nowhere.
  const env = () =>
    testEnv({
      // Its own key: the webhooks it registers hear only its own notifications, not later tests'.
      API_KEYS: `${TEST_API_KEY},${SCHEMATHESIS_KEY}`,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      TELEGRAM_BOT_TOKEN: '123456:schemathesis',
      TELEGRAM_BOT_USERNAME: 'herald_test_bot',
      TELEGRAM_API_URL: 'http://127.0.0.1:9',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TWILIO_AUTH_TOKEN: 'schemathesis-twilio-auth-token',
      // The in-app inbox is on: its token route and feed are exercised too.
      INBOX_SECRET,
    });
  let herald: RunningStack | undefined;
  const startedAt = new Date();

  after(async () => {
    await herald?.stop();
  });

  it(
    'refuses every invalid request with a 4xx the document lists, and changes nothing',
    { timeout: 300_000 },
    async (t) => {
      // No worker: nothing but the API's requests can change the database while it is watched.
      herald = await startHerald(env(), { queues: [], unknownKeyLimit: SCHEMATHESIS_UNKNOWN_KEYS });
      // Rows to watch: a refusal must leave them as they are, not only add none.
      await seed(herald);

      try {
        const before = await snapshot(herald.db);
        const { code, output } = await run(
          herald,
          [
            '--mode',
            'negative',
            // Stateful sequences begin by creating something, which an invalid request never does.
            '--phases',
            'coverage,fuzzing',
            // The only invalid user id in a URL is one over 200 characters, and Hypothesis drops most
            // candidates it draws for one: its check of the generator's own efficiency would stop
            // those operations before a single request. No request or response check is skipped.
            '--suppress-health-check',
            'filter_too_much',
          ],
          // And each invalid request is refused with a 4xx.
          { checks: [...CHECKS, 'negative_data_rejection'] },
        );
        assert.equal(code, 0, summary(output));
        t.diagnostic(tally(output));
        assert.deepEqual(await snapshot(herald.db), before);
      } finally {
        await herald.stop();
        herald = undefined;
      }
    },
  );

  it(
    'answers every generated request as the document says, never with a 5xx',
    { timeout: 300_000 },
    async (t) => {
      // The workflow worker runs, so cancel and retry reach real workflows; no channel worker does.
      herald = await startHerald(env(), {
        queues: [NOTIFICATIONS_QUEUE],
        unknownKeyLimit: SCHEMATHESIS_UNKNOWN_KEYS,
      });
      const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-schemathesis-config-'));
      try {
        const config = path.join(dir, 'schemathesis.toml');
        writeFileSync(config, seedsConfig(await seed(herald)));
        const { code, output } = await run(herald, [], { config });
        assert.equal(code, 0, summary(output));
        t.diagnostic(tally(output));
      } finally {
        rmSync(dir, { recursive: true, force: true });
        t.diagnostic(
          `${await terminateWorkflowsSince(herald.temporal, startedAt, 'the schemathesis run is over')} open workflows terminated`,
        );
      }
    },
  );
});
