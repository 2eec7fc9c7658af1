// Graceful shutdown of Herald's processes, each a real child process as in production: SIGTERM to the
// worker lets a running delivery finish (nothing lost, nothing sent twice), and SIGTERM to the API lets a
// slow in-flight request complete while new connections are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { spawnNode, type BenchProcess } from '../tools/local-stack/processes.js';
import { writeWorkflowBundle } from '../src/workers/create-workers.js';
import { freePort } from '../tools/local-stack/ports.js';
import { eventually, TEST_API_KEY, uniqueId } from './support/stack.js';
import { startTelegramFake, type TelegramFake } from '../tools/fakes/telegram-fake.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-shutdown-'));
let telegram: TelegramFake;
let env: Record<string, string>;
const running = new Set<BenchProcess>();

before(async () => {
  const databaseUrl = process.env.HERALD_TEST_DATABASE_URL;
  const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress)
    throw new Error('Run with `npx tsx test/run.ts test/shutdown.test.ts`');
  telegram = await startTelegramFake({ token: '4242:shutdown-token' });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeWorkflowBundle(bundlePath);
  env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    API_KEYS: TEST_API_KEY,
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_URL: telegram.url,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    LOG_LEVEL: 'info',
  };
});

after(async () => {
  for (const process of running) await process.stop();
  await telegram.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(name: 'worker' | 'api', extra: Record<string, string> = {}): Promise<BenchProcess> {
  const started = await spawnNode({
    name,
    entry: name === 'worker' ? 'src/workers/main.ts' : 'src/api/main.ts',
    env: { ...env, ...extra },
    readyLine: name === 'worker' ? /"msg":"worker started"/ : /API listening/,
    logFile: path.join(dir, `${name}-${running.size}.log`),
  });
  running.add(started);
  return started;
}

const exitOf = (process: BenchProcess) =>
  new Promise<{ code: number | null; at: number }>((resolve) =>
    process.child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );

async function api(base: string, method: string, pathname: string, body?: unknown) {
  const response = await fetch(`${base}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('SIGTERM to the worker lets a running delivery finish: sent once, recorded once', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const apiProcess = await start('api', { PORT: String(port) });
  const worker = await start('worker');
  const externalId = uniqueId('shutdown');
  const chatId = String(700_000 + Math.floor(Math.random() * 100_000));
  assert.equal((await api(base, 'POST', '/v1/users', { externalId, telegramChatId: chatId })).status, 201);

  // The provider holds its answer for 4 s: SIGTERM comes while the activity waits on it.
  telegram.delayNext(1, 4000);
  const accepted = await api(base, 'POST', '/v1/notifications', {
    userId: externalId,
    category: 'shutdown',
    title: 'Drain',
    body: 'Sent while the worker shuts down',
    channels: ['telegram'],
  });
  assert.equal(accepted.status, 202);
  const id = accepted.json.id as string;
  await eventually(
    async () =>
      telegram.requests.some((r) => r.method === 'sendMessage' && String(r.params.chat_id) === chatId),
    { what: 'the sendMessage call' },
  );

  const exited = exitOf(worker);
  worker.child.kill('SIGTERM');
  const { code, at } = await exited;
  running.delete(worker);
  assert.equal(code, 0, 'the worker exits cleanly');
  const message = telegram.messages.find((m) => m.chatId === chatId);
  assert.ok(message && message.at <= at, 'the held sendMessage completed before the worker exited');

  // A new worker finishes the workflow; the delivery was not run a second time.
  await start('worker');
  const json = await eventually(
    async () => {
      const { json } = await api(base, 'GET', `/v1/notifications/${id}`);
      return json.status === 'sent' && json;
    },
    { timeoutMs: 60_000, what: 'the notification to be sent' },
  );
  const [delivery] = json.deliveries as { channel: string; status: string; attempts: number }[];
  assert.deepEqual([delivery?.channel, delivery?.status, delivery?.attempts], ['telegram', 'sent', 1]);
  assert.equal(telegram.messages.filter((m) => m.chatId === chatId).length, 1);
  await apiProcess.stop();
  running.delete(apiProcess);
});

test('SIGTERM to the API drains a slow in-flight request and refuses new connections', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const apiProcess = await start('api', { PORT: String(port) });
  const externalId = uniqueId('drain');
  assert.equal(
    (await api(base, 'POST', '/v1/users', { externalId, email: 'drain@example.com' })).status,
    201,
  );

  // A lock on the users table makes the next read wait in PostgreSQL until the test lets it go.
  const lock = new pg.Client({ connectionString: env.DATABASE_URL });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const slow = api(base, 'GET', `/v1/users/${externalId}`);
    await eventually(
      async () => {
        const { rows } = await lock.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        return Number(rows[0]!.n) > 0;
      },
      { what: 'the request to wait on the lock' },
    );

    const exited = exitOf(apiProcess);
    apiProcess.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(apiProcess.child.exitCode, null, 'the API waits for the in-flight request');
    await assert.rejects(fetch(`${base}/healthz`), 'a new connection is refused while draining');

    await lock.query('COMMIT');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(answer.json.externalId, externalId);
    assert.equal((await exited).code, 0);
    running.delete(apiProcess);
  } finally {
    await lock.end();
  }
});

test('SIGTERM to the API cuts a request that outlives the drain time, then exits', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const apiProcess = await start('api', { PORT: String(port) });
  const lock = new pg.Client({ connectionString: env.DATABASE_URL });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const stuck = api(base, 'GET', `/v1/users/${uniqueId('stuck')}`);
    stuck.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const signalled = Date.now();
    const exited = exitOf(apiProcess);
    apiProcess.child.kill('SIGTERM');
    await assert.rejects(stuck, 'the stuck request is cut');
    const { code, at } = await exited;
    running.delete(apiProcess);
    assert.equal(code, 1, 'an unclean stop says so');
    assert.ok(at - signalled < 15_000, `exited ${at - signalled} ms after SIGTERM`);
  } finally {
    await lock.query('ROLLBACK').catch(() => undefined);
    await lock.end();
  }
});
