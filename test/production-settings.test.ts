// Production refuses weak settings: with NODE_ENV=production, API keys shorter than 32 characters, a
// PUBLIC_URL that is not https and a well-known database password stop every process at start-up with a
// message naming each (exit code 78), and an empty CODEC_KEYS is logged as a warning. Without
// NODE_ENV=production the same settings load, as `npm run dev` and the tests need.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/platform/config.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { spawnNode } from '../tools/local-stack/processes.js';

const STRONG_KEY = 'k'.repeat(32);
const STRONG = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://herald:Zq8-long-and-random@db.internal:5432/herald',
  API_KEYS: STRONG_KEY,
  PUBLIC_URL: 'https://herald.example.test',
};

/** The problems production refuses these settings with, or [] when they load. */
function refusals(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /^Refused in production \(NODE_ENV=production\):/);
    return error.problems;
  }
}
const refused = (env: NodeJS.ProcessEnv) => refusals(env).map((p) => p.variable);

describe('production settings (loadConfig with NODE_ENV=production)', () => {
  it('loads strong settings', () => {
    assert.deepEqual(refusals(STRONG), []);
  });

  it('refuses an API key shorter than 32 characters, naming its position, never the key', () => {
    const problems = refusals({ ...STRONG, API_KEYS: `${STRONG_KEY},short-key-31-characters-long-xx` });
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['API_KEYS'],
    );
    assert.match(problems[0]!.message, /entry 2 is 31 characters; production needs at least 32/);
    assert.doesNotMatch(problems[0]!.message, /short-key/);
  });

  for (const publicUrl of ['http://herald.example.test', undefined]) {
    it(`refuses PUBLIC_URL=${publicUrl ?? '(unset)'}`, () => {
      assert.deepEqual(refused({ ...STRONG, PUBLIC_URL: publicUrl }), ['PUBLIC_URL']);
    });
  }

  for (const password of ['herald', 'postgres', 'password', 'Temporal', 'pass%77ord', '']) {
    it(`refuses a DATABASE_URL with the password "${password}"`, () => {
      const problems = refusals({
        ...STRONG,
        DATABASE_URL: `postgresql://herald:${password}@postgres:5432/herald`,
      });
      assert.deepEqual(
        problems.map((p) => p.variable),
        ['DATABASE_URL'],
      );
      assert.match(problems[0]!.message, /(empty|well-known default) password/);
    });
  }

  it('accepts a DATABASE_URL without a password (PGPASSWORD, ~/.pgpass or a certificate supply it)', () => {
    assert.deepEqual(refused({ ...STRONG, DATABASE_URL: 'postgresql://herald@db.internal/herald' }), []);
  });

  it('names every weak setting at once', () => {
    const weak = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://herald:herald@postgres:5432/herald',
      API_KEYS: 'short',
      PUBLIC_URL: 'http://127.0.0.1:3000',
    };
    assert.deepEqual(refused(weak).sort(), ['API_KEYS', 'DATABASE_URL', 'PUBLIC_URL']);
    // Outside production nothing changes: npm run dev and the tests use short keys and http.
    assert.deepEqual(loadConfig({ ...weak, NODE_ENV: 'development' }).startupWarnings, []);
    assert.deepEqual(loadConfig({ ...weak, NODE_ENV: undefined }).apiKeys, ['short']);
  });

  it('warns when CODEC_KEYS is empty, and only in production', () => {
    assert.deepEqual(
      loadConfig(STRONG).startupWarnings.map((w) => w.variable),
      ['CODEC_KEYS'],
    );
    const codecKeys = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
    assert.deepEqual(loadConfig({ ...STRONG, CODEC_KEYS: codecKeys }).startupWarnings, []);
    assert.deepEqual(loadConfig({ ...STRONG, NODE_ENV: 'test' }).startupWarnings, []);
  });
});

describe('production processes refuse weak settings at start-up', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-production-settings-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Nothing from this process but PATH and HOME: the database and Temporal are never reached. */
  const weakEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'production',
    DATABASE_URL: 'postgresql://herald:herald@127.0.0.1:1/herald',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    API_KEYS: `${STRONG_KEY},dev-key`,
    PUBLIC_URL: 'http://herald.example.test',
    TELEGRAM_BOT_TOKEN: '4242:production-settings',
  };

  for (const entry of ['src/api/main.ts', 'src/workers/main.ts', 'src/bot/main.ts']) {
    it(`${entry} exits 78 naming each weak setting`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: projectRoot,
        env: weakEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 78, output);
      assert.match(output, /Refused in production \(NODE_ENV=production\):/);
      for (const variable of ['DATABASE_URL', 'API_KEYS', 'PUBLIC_URL'])
        assert.match(output, new RegExp(`^ {2}${variable}: `, 'm'), output);
      assert.doesNotMatch(output, /dev-key/, 'the refusal shows the key');
    });
  }

  it('logs a warning for an empty CODEC_KEYS and starts', async () => {
    const databaseUrl = process.env.HERALD_TEST_DATABASE_URL;
    const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS;
    assert.ok(databaseUrl && temporalAddress, 'run with `npx tsx test/run.ts`');
    const logFile = path.join(dir, 'api.log');
    const api = await spawnNode({
      name: 'api',
      entry: 'src/api/main.ts',
      env: {
        ...STRONG,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporalAddress,
        PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        CODEC_KEYS: '',
      },
      readyLine: /API listening/,
      logFile,
    });
    await api.stop();
    const warnings = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; variable?: string; msg: string })
      .filter((line) => line.level === 40);
    assert.deepEqual(
      warnings.map((w) => w.variable),
      ['CODEC_KEYS'],
    );
    assert.match(warnings[0]!.msg, /^CODEC_KEYS is empty: payloads reach Temporal unencrypted/);
  });
});
