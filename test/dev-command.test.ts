// `npm run dev` as a newcomer runs it: everything from nothing, Ctrl-C, a second start that keeps the data;
// and, with DATABASE_URL / TEMPORAL_ADDRESS / SMTP_URL set, the given services instead of its own.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort, isPortFree } from '../tools/local-stack/ports.js';
import { startSmtpSink } from '../tools/fakes/smtp-sink.js';
import { eventually, testEnv, uniqueId } from './support/stack.js';

interface DevRun {
  child: ChildProcess;
  output: () => string;
  apiKey: string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const HERALD_VARS = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'SMTP_URL',
  'API_KEYS',
  'PORT',
  'TELEGRAM_BOT_TOKEN',
  'VAPID_PUBLIC_KEY',
  'VAPID_PRIVATE_KEY',
  'SMS_PROVIDER',
  'SMS_HTTP_URL',
  'SMTP_FALLBACK_URL',
];

async function startDev(env: Record<string, string>): Promise<DevRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !HERALD_VARS.includes(k)));
  // Its own process group, so the test can send Ctrl-C to the whole group as a terminal does.
  const child = spawn(process.execPath, ['tools/dev.mjs'], {
    cwd: projectRoot,
    env: { ...base, NO_COLOR: '1', LOG_LEVEL: 'info', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000));
    const result = await Promise.race([exited, timeout]);
    if (result === 'timeout') {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`npm run dev did not stop within 60 s:\n${output}`);
    }
    return result;
  };
  try {
    await eventually(
      async () => output.includes('Herald is running') || (child.exitCode !== null && 'exited'),
      {
        timeoutMs: 180_000,
        intervalMs: 200,
        what: 'the banner',
      },
    );
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  if (!output.includes('Herald is running')) throw new Error(`npm run dev exited early:\n${output}`);
  const apiKey = /API key\s+(\S+)/.exec(output)?.[1] ?? '';
  return { child, output: () => output, apiKey, exited, stop };
}

const call = (port: number, key: string, route: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}${route}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

type MaildevMail = { subject: string; to: { address: string }[] };

/** Polls maildev's REST API until a message matches. */
function waitForMaildev(
  port: number,
  matches: (mail: MaildevMail) => boolean,
  options: { what: string; timeoutMs?: number },
): Promise<boolean> {
  return eventually(async () => {
    const mails = (await (await fetch(`http://127.0.0.1:${port}/api/email`)).json()) as MaildevMail[];
    return mails.some(matches);
  }, options);
}

describe('npm run dev', { timeout: 600_000 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-dev-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('brings everything up from nothing, stops on Ctrl-C, and keeps the data for the next start', async () => {
    const ports = {
      PORT: await freePort(),
      HERALD_TEMPORAL_PORT: await freePort(),
      HERALD_TEMPORAL_UI_PORT: await freePort(),
      HERALD_MAIL_SMTP_PORT: await freePort(),
      HERALD_MAIL_UI_PORT: await freePort(),
      HERALD_INBOX_DEMO_PORT: await freePort(),
    };
    const env = {
      HERALD_DATA_DIR: dataDir,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const first = await startDev(env);
    let notificationId: string;
    try {
      assert.match(first.apiKey, /^hk_dev_/);
      for (const url of ['Temporal UI', 'Mail UI', 'API docs', 'Inbox demo'])
        assert.match(first.output(), new RegExp(url));

      // The inbox demo: a page on its own origin with <herald-inbox> and a token its server asked for.
      const demoUrl = `http://127.0.0.1:${ports.HERALD_INBOX_DEMO_PORT}`;
      const demo = await (await fetch(demoUrl)).text();
      const token = /<herald-inbox token="([^"]+)">/.exec(demo)?.[1];
      assert.ok(token, demo);
      assert.match(demo, new RegExp(`src="http://127.0.0.1:${ports.PORT}/inbox/herald-inbox.js"`));
      assert.equal((await fetch(`${demoUrl}/send`, { method: 'POST' })).status, 202);
      await eventually(
        async () => {
          const counts = await fetch(`http://127.0.0.1:${ports.PORT}/inbox/v1/counts`, {
            headers: { authorization: `Bearer ${token}`, origin: demoUrl },
          });
          return (
            counts.headers.get('access-control-allow-origin') === demoUrl &&
            ((await counts.json()) as { unread: number }).unread === 1
          );
        },
        { what: "the demo's notification in the dev user's inbox" },
      );

      const email = `${uniqueId('dev')}@example.test`;
      const user = await call(ports.PORT, first.apiKey, '/v1/users', { externalId: uniqueId(), email });
      assert.equal(user.status, 201);
      const { id: userId } = (await user.json()) as { id: string };
      const sent = await call(ports.PORT, first.apiKey, '/v1/notifications', {
        userId,
        category: 'welcome',
        title: 'Welcome to Herald',
        body: 'Sent by the dev stack',
      });
      assert.equal(sent.status, 202);
      notificationId = ((await sent.json()) as { id: string }).id;

      // The email reaches the dev mail sink (maildev's REST API).
      await waitForMaildev(
        ports.HERALD_MAIL_UI_PORT,
        (m) => m.subject === 'Welcome to Herald' && m.to.some((t) => t.address === email),
        { what: 'the email in maildev' },
      );
      await eventually(
        async () => {
          const view = await call(ports.PORT, first.apiKey, `/v1/notifications/${notificationId}`);
          return ((await view.json()) as { status: string }).status === 'sent';
        },
        { what: 'the notification to be recorded as sent' },
      );

      // A worker that dies is reported and restarted; a notification sent meanwhile is not lost.
      const workerPid = Number(/worker started \(pid (\d+)\)/.exec(first.output())?.[1]);
      process.kill(workerPid, 'SIGKILL');
      await eventually(
        async () => /worker exited unexpectedly[\s\S]*restarting worker/.test(first.output()),
        {
          what: 'the supervisor to report the dead worker',
        },
      );
      const during = await call(ports.PORT, first.apiKey, '/v1/notifications', {
        userId,
        category: 'welcome',
        title: 'Sent while the worker was down',
        body: 'Temporal keeps it until a worker is back',
      });
      assert.equal(during.status, 202);
      await waitForMaildev(ports.HERALD_MAIL_UI_PORT, (m) => m.subject === 'Sent while the worker was down', {
        what: 'the email sent after the worker restarted',
        timeoutMs: 60_000,
      });
      assert.equal(
        (first.output().match(/worker started \(pid/g) ?? []).length,
        2,
        'the worker was started again',
      );

      // The workflow is listed by the Temporal server whose UI the banner shows.
      const ui = await fetch(`http://127.0.0.1:${ports.HERALD_TEMPORAL_UI_PORT}/`);
      assert.equal(ui.status, 200);
      const connection = await Connection.connect({ address: `127.0.0.1:${ports.HERALD_TEMPORAL_PORT}` });
      const listed = await connection.workflowService.listWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowId = "notification-${notificationId}"`,
      });
      await connection.close();
      assert.equal(listed.executions.length, 1);
    } finally {
      assert.equal(await first.stop(), 0, first.output());
    }
    assert.match(first.output(), /temporal stopped/);
    for (const port of Object.values(ports)) assert.ok(await isPortFree(port), `port ${port} is still held`);

    const second = await startDev(env);
    try {
      assert.equal(second.apiKey, first.apiKey);
      const res = await call(ports.PORT, second.apiKey, `/v1/notifications/${notificationId}`);
      assert.equal(res.status, 200);
      const view = (await res.json()) as {
        status: string;
        deliveries: { channel: string; status: string }[];
      };
      assert.equal(view.status, 'sent');
      // Every user has an inbox: `npm run dev` turns the in_app channel on.
      assert.deepEqual(
        view.deliveries.map((d) => [d.channel, d.status]),
        [
          ['email', 'sent'],
          ['in_app', 'sent'],
        ],
      );
    } finally {
      assert.equal(await second.stop(), 0, second.output());
    }
  });

  it('uses DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL instead of starting its own', async () => {
    const shared = testEnv();
    const smtp = await startSmtpSink();
    const port = await freePort();
    const unusedTemporalPort = await freePort();
    const unusedMailPort = await freePort();
    const run = await startDev({
      HERALD_DATA_DIR: path.join(dataDir, 'external'),
      DATABASE_URL: shared.databaseUrl,
      TEMPORAL_ADDRESS: shared.temporal.address,
      SMTP_URL: smtp.url,
      API_KEYS: 'external-key',
      PORT: String(port),
      HERALD_TEMPORAL_PORT: String(unusedTemporalPort),
      HERALD_MAIL_SMTP_PORT: String(unusedMailPort),
    });
    try {
      assert.match(run.output(), /\(TEMPORAL_ADDRESS\)/);
      assert.doesNotMatch(run.output(), /starting the Temporal dev server|starting the embedded PostgreSQL/);
      assert.ok(await isPortFree(unusedTemporalPort), 'a Temporal server was started anyway');
      assert.ok(await isPortFree(unusedMailPort), 'a mail sink was started anyway');

      const email = `${uniqueId('ext')}@example.test`;
      const user = await call(port, 'external-key', '/v1/users', { externalId: uniqueId(), email });
      assert.equal(user.status, 201);
      const { id: userId } = (await user.json()) as { id: string };
      const sent = await call(port, 'external-key', '/v1/notifications', {
        userId,
        category: 'welcome',
        title: 'Through the given services',
        body: 'External SMTP',
      });
      assert.equal(sent.status, 202);
      const mail = await smtp.waitFor((m) => m.envelopeTo.includes(email), 60_000);
      assert.equal(mail.parsed.subject, 'Through the given services');
    } finally {
      assert.equal(await run.stop(), 0, run.output());
      await smtp.close();
    }
  });
});
