// The operator's view of encrypted payloads in a real browser: a Temporal dev server started with
// `--ui-codec-endpoint <API>/codec/<token>` (as `npm run dev` starts it) shows a notification's input
// and result decrypted through Herald's codec server, while its history holds only sealed payloads.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { chromiumMissingReason, chromiumPath } from '../tools/ensure-tools.mjs';
import { createApp } from '../src/api/app.js';
import { codecServerOptions } from '../src/api/codec.js';
import { createLogger } from '../src/platform/logger.js';
import { serveMetrics } from '../src/platform/metrics.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer, type TemporalServer } from '../tools/local-stack/temporal-server.js';
import { TEST_CODEC_ENV, TEST_CODEC_TOKEN } from './support/codec.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import {
  TEST_API_KEY,
  eventually,
  startHerald,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';

const ARTIFACTS = path.join(projectRoot, 'test-artifacts', 'codec-ui');

describe('encrypted payloads in the Temporal Web UI, decrypted by the codec server (Chromium)', () => {
  let temporal: TemporalServer | undefined;
  let smtp: SmtpSink | undefined;
  let herald: RunningStack | undefined;
  let api: Server | undefined;
  let browser: Browser | undefined;
  let apiUrl = '';

  before(async () => {
    const missing = chromiumMissingReason();
    if (missing) throw new Error(missing);
    mkdirSync(ARTIFACTS, { recursive: true });
    // The UI is told the codec endpoint at start, so the API's port is chosen first.
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const uiPort = await freePort();
    temporal = await startTemporalServer({
      port: await freePort(),
      uiPort,
      extraArgs: ['--ui-codec-endpoint', `${apiUrl}/codec/${TEST_CODEC_TOKEN}`],
    });
    smtp = await startSmtpSink();
    const config = testEnv({
      ...TEST_CODEC_ENV,
      TEMPORAL_ADDRESS: temporal.address,
      SMTP_URL: smtp.url,
      CODEC_CORS_ORIGINS: temporal.uiUrl!,
    });
    herald = await startHerald(config, { queues: ['notifications', 'email'], api: false });
    const app = createApp({
      db: herald.db,
      temporal: herald.temporal,
      logger: createLogger('test', 'silent'),
      apiKeys: config.apiKeys,
      codecServer: codecServerOptions(config),
    });
    api = await new Promise<Server>((resolve) => {
      const server = app.listen(apiPort, '127.0.0.1', () => resolve(server));
    });
    browser = await chromium.launch({ executablePath: chromiumPath });
  });
  after(async () => {
    await browser?.close();
    api?.closeAllConnections();
    await new Promise((resolve) => (api ? api.close(resolve) : resolve(undefined)));
    await herald?.stop();
    await smtp?.close();
    await temporal?.stop();
  });

  it('shows the input and result decrypted, and only sealed bytes when the codec server is out of reach', async () => {
    const call = (route: string, body: unknown) =>
      fetch(apiUrl + route, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const email = `${uniqueId('ui')}@example.test`;
    const created = await call('/v1/users', { externalId: uniqueId(), email });
    const { id: userId } = (await created.json()) as { id: string };
    const sent = await call('/v1/notifications', { userId, category: 'billing', title: 'Hi', body: 'Hello' });
    const { id, workflowId } = (await sent.json()) as { id: string; workflowId: string };
    await smtp!.waitFor((m) => m.envelopeTo.includes(email));
    const handle = herald!.temporal.workflow.getHandle(workflowId);
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', {
      what: 'the workflow to complete',
    });
    const url = `${temporal!.uiUrl}/namespaces/default/workflows/${workflowId}`;

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60_000);
    await page.goto(url);
    await page.getByText(`"userId": "${userId}"`).first().waitFor();
    const decrypted = await page.getByRole('main').innerText();
    assert.match(decrypted, new RegExp(`"notificationId": "${id}"`));
    assert.doesNotMatch(decrypted, /binary\/encrypted|YmluYXJ5L2VuY3J5cHRlZA/);
    await page.screenshot({ path: path.join(ARTIFACTS, '1-decrypted.png'), fullPage: true });

    // The same page with the codec server unreachable: Temporal itself has only the sealed payloads.
    const blind = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    blind.setDefaultTimeout(60_000);
    await blind.route(`${apiUrl}/codec/**`, (route) => route.abort());
    await blind.goto(url);
    await blind
      .getByText(/binary\/encrypted|YmluYXJ5L2VuY3J5cHRlZA/)
      .first()
      .waitFor();
    assert.ok(!(await blind.getByRole('main').innerText()).includes(userId));
    await blind.screenshot({ path: path.join(ARTIFACTS, '2-without-codec.png'), fullPage: true });

    // The decryption came from Herald's codec server, reached by the UI's route with the token.
    // The API's metrics listener (API_METRICS_PORT in src/api/main.ts): the same registry, its own port.
    const metricsServer = await serveMetrics({ host: '127.0.0.1', port: 0 });
    const metrics = await (await fetch(metricsServer.url)).text().finally(() => metricsServer.close());
    assert.match(
      metrics,
      /herald_http_request_duration_seconds_count\{method="POST",route="\/codec\/:token\/decode",status="200"\} [1-9]/,
    );
    await page.close();
    await blind.close();
  });
});
