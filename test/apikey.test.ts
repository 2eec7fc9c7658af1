// `npm run apikey`: a created key authenticates, the listing never shows it, a revoked key gets 401,
// and the key never reaches the logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../src/api/app.js';
import { createApiKey, hashApiKey } from '../src/domain/api-keys.js';
import type { Db } from '../src/store/db.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import {
  eventually,
  startHerald,
  testEnv,
  TEST_API_KEY,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real command in a child process, against the test database. */
function apikey(...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/apikey.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: process.env.HERALD_TEST_DATABASE_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

interface ListedKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const listed = async (): Promise<ListedKey[]> => {
  const run = await apikey('list', '--json');
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as ListedKey[];
};

describe('API keys command', () => {
  let herald: RunningStack;
  let server: Server;
  let apiUrl: string;
  let logs = '';
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [], api: false });
    // Everything at trace level and nothing redacted: a key in any log line would show here.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const app = createApp({ db: herald.db, temporal: herald.temporal, logger, apiKeys: [TEST_API_KEY] });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await herald?.stop();
  });

  // A key created without --scopes may send: reading a notification is within its scope.
  const getUser = (key: string) =>
    fetch(`${apiUrl}/v1/notifications/${crypto.randomUUID()}`, {
      headers: { authorization: `Bearer ${key}` },
    });
  const request = (key: string, path: string) =>
    fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it('creates a key that authenticates, lists it without the key, and revokes it', async () => {
    const created = await apikey('create', '--name', 'billing');
    assert.equal(created.code, 0, created.stderr);
    const key = /key\s+(hk_\S+)/.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);
    assert.ok(Buffer.from(key.slice(3), 'base64url').length >= 32, 'at least 32 random bytes');
    const id = /id\s+(\S+)/.exec(created.stdout)?.[1];
    const stored = await herald.db.apiKey.findUniqueOrThrow({ where: { id } });
    assert.equal(stored.hash, hashApiKey(key));
    assert.ok(key.startsWith(stored.prefix));

    assert.deepEqual(stored.scopes, ['send'], 'a key created without --scopes may only send');
    assert.match(created.stdout, /scopes\s+send/);
    // An unknown notification is 404: the key got past authentication.
    assert.equal((await getUser(key)).status, 404);
    assert.equal((await getUser(TEST_API_KEY)).status, 404, 'API_KEYS still work');
    const firstUse = await eventually(
      async () => (await herald.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt,
      { what: 'lastUsedAt' },
    );
    assert.equal((await getUser(key)).status, 404);
    await new Promise((r) => setTimeout(r, 300));
    const secondUse = (await herald.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt;
    assert.deepEqual(secondUse, firstUse, 'lastUsedAt is written at most once a minute');

    const text = await apikey('list');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /billing/);
    assert.match(text.stdout, new RegExp(stored.prefix));
    const entry = (await listed()).find((k) => k.id === id);
    assert.deepEqual(Object.keys(entry ?? {}).sort(), [
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'prefix',
      'revokedAt',
      'scopes',
    ]);
    assert.deepEqual(entry!.scopes, ['send']);
    assert.match(text.stdout, /SCOPES/);
    assert.equal(entry!.revokedAt, null);
    assert.ok(entry!.lastUsedAt);
    for (const output of [text.stdout, JSON.stringify(await listed())]) {
      assert.ok(!output.includes(key), 'the listing never shows the key');
      assert.ok(!output.includes(stored.hash), 'the listing never shows the hash');
    }

    const revoked = await apikey('revoke', stored.prefix);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await getUser(key)).status, 401);
    assert.ok((await listed()).find((k) => k.id === id)!.revokedAt);

    const again = await apikey('revoke', id!);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already revoked/);

    assert.ok(logs.includes('"status":404'), 'the requests were logged');
    assert.ok(!logs.includes(key), 'the key is not in the logs');
    assert.ok(!logs.includes(TEST_API_KEY), 'the env key is not in the logs');
  });

  it('creates a key with --scopes and lists them; the key may do what they allow and nothing else', async () => {
    const created = await apikey('create', '--name', uniqueId('support'), '--scopes', 'manage, send');
    assert.equal(created.code, 0, created.stderr);
    const key = /key\s+(hk_\S+)/.exec(created.stdout)![1]!;
    const id = /id\s+(\S+)/.exec(created.stdout)![1]!;
    assert.deepEqual((await listed()).find((k) => k.id === id)!.scopes, ['send', 'manage']);
    assert.match((await apikey('list')).stdout, /send,manage/);
    assert.equal((await request(key, `/v1/users/${uniqueId('nobody')}`)).status, 404, 'manage reads users');

    const sendOnly = await apikey('create', '--name', uniqueId('billing'), '--scopes', 'send');
    const sendKey = /key\s+(hk_\S+)/.exec(sendOnly.stdout)![1]!;
    const refused = await request(sendKey, `/v1/users/${uniqueId('nobody')}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await refused.json()) as { type: string }).type, 'https://herald.dev/problems/forbidden');

    const admin = await apikey('create', '--name', uniqueId('ops'), '--scopes', 'admin');
    const adminKey = /key\s+(hk_\S+)/.exec(admin.stdout)![1]!;
    assert.equal(
      (await request(adminKey, `/v1/users/${uniqueId('nobody')}`)).status,
      404,
      'admin reads users',
    );
    assert.equal((await request(adminKey, '/v1/webhooks')).status, 200, 'admin has webhooks too');

    for (const scopes of ['', 'root', 'send,everything', ',']) {
      const run = await apikey('create', '--name', 'x', '--scopes', scopes);
      assert.equal(run.code, 64, `--scopes "${scopes}": ${run.stderr}`);
      assert.match(run.stderr, /--scopes/);
    }
  });

  it('refuses bad usage with exit code 64 and an unknown key with a message', async () => {
    for (const args of [[], ['bogus'], ['create'], ['create', '--name', ''], ['list', 'extra'], ['revoke']]) {
      const run = await apikey(...args);
      assert.equal(run.code, 64, `apikey ${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Usage: npm run apikey/);
    }
    const control = await apikey('create', '--name', 'bad\u0007name');
    assert.equal(control.code, 64);
    const tooLong = await apikey('create', '--name', 'x'.repeat(101));
    assert.equal(tooLong.code, 64);

    for (const target of ['00000000-0000-4000-8000-000000000000', 'hk_nothing']) {
      const run = await apikey('revoke', target);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /No API key has the id or prefix/);
    }
  });
});

describe('unknown API keys', () => {
  let herald: RunningStack;
  let server: Server;
  let apiUrl: string;
  let clock = 0;
  let lookups = 0;
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [], api: false });
    // The database as the API sees it, counting stored-key lookups.
    const apiKey = new Proxy(herald.db.apiKey, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === 'findUnique')
          return (...args: unknown[]) => {
            lookups++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const db = new Proxy(herald.db, {
      get(target, prop) {
        if (prop === 'apiKey') return apiKey;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    }) as Db;
    const app = createApp({
      db,
      temporal: herald.temporal,
      logger: pino({ level: 'silent' }),
      apiKeys: [TEST_API_KEY],
      unknownKeyLimit: { perSecond: 1, burst: 5, now: () => clock },
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await herald?.stop();
  });
  const request = (key: string) =>
    fetch(`${apiUrl}/v1/users/${uniqueId('nobody')}`, { headers: { authorization: `Bearer ${key}` } });
  const randomKey = () =>
    `hk_${crypto.randomUUID().replaceAll('-', '')}${crypto.randomUUID().replaceAll('-', '')}`;

  it('answers a flood of made-up keys with 429 before any database lookup, and keeps real keys working', async () => {
    const { key: stored } = await createApiKey(herald.db, uniqueId('flood'), ['manage']);
    const keysBefore = await herald.db.apiKey.findMany({ orderBy: { id: 'asc' } });
    lookups = 0;

    for (let i = 0; i < 5; i++) assert.equal((await request(randomKey())).status, 401);
    assert.equal(lookups, 5, 'the first few are looked up and refused');
    const flood = await Promise.all(Array.from({ length: 50 }, () => request(randomKey())));
    assert.deepEqual(new Set(flood.map((r) => r.status)), new Set([429]));
    const refused = flood[0]!;
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(
      ((await refused.json()) as { type: string }).type,
      'https://herald.dev/problems/rate-limited',
    );
    assert.equal(lookups, 5, 'the flood reached no database');

    // An API_KEYS key needs no lookup and passes; a stored key from this address waits like the flood.
    assert.equal((await request(TEST_API_KEY)).status, 404);
    assert.equal((await request(stored)).status, 429);
    assert.equal(lookups, 5);

    clock += 1_000;
    // A stored key that is found costs nothing: it goes on working while the address has room.
    for (let i = 0; i < 10; i++) assert.equal((await request(stored)).status, 404);
    assert.equal(lookups, 15);
    assert.equal((await request(randomKey())).status, 401);
    assert.equal((await request(randomKey())).status, 429);
    assert.equal(lookups, 16);

    // Nothing about the stored keys changed but the one key's lastUsedAt.
    const keysAfter = await herald.db.apiKey.findMany({ orderBy: { id: 'asc' } });
    assert.deepEqual(
      keysAfter.map(({ lastUsedAt: _, ...k }) => k),
      keysBefore.map(({ lastUsedAt: _, ...k }) => k),
    );
  });
});
