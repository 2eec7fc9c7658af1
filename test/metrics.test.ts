// Prometheus metrics on real parts: the API's GET /metrics (request latency by route pattern,
// notifications accepted by category) and the worker's (deliveries by channel and outcome).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../src/platform/config.js';
import { freePort } from '../tools/local-stack/ports.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { serveMetrics, type MetricsServer } from '../src/platform/metrics.js';
import { eventually, uniqueId, untilStatus, useEmailStack } from './support/stack.js';

/** An hour away: notifications that stay scheduled, so counting them races with no delivery. */
const SEND_AT = new Date(Date.now() + 3_600_000).toISOString();
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition (comments skipped). */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with exactly these labels; 0 when there is none yet. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = samples(text).filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  );
  assert.ok(found.length <= 1, `more than one ${name} sample with ${wanted}`);
  return found[0]?.value ?? 0;
}

async function scrape(url: string): Promise<string> {
  // No Authorization header: Prometheus scrapes without one.
  const res = await fetch(url);
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return res.text();
}

describe('metrics', () => {
  const t = useEmailStack();
  // The worker's metrics server, here in the same process as the test's workers (as in src/workers/main.ts).
  let worker: MetricsServer;
  before(async () => {
    worker = await serveMetrics({ host: '127.0.0.1', port: 0 });
  });
  after(() => worker?.close());

  const apiMetrics = () => scrape(t.herald.metricsUrl);
  const workerMetrics = () => scrape(worker.url);
  const deliveries = async (channel: string, outcome: string) =>
    valueOf(await workerMetrics(), 'herald_deliveries_total', { channel, outcome });
  const accepted = async (category: string) =>
    valueOf(await apiMetrics(), 'herald_notifications_accepted_total', { category });

  async function createUser(email?: string) {
    const res = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string };
  }
  async function notify(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await t.herald.api('/v1/notifications', {
      json: { title: 'Metrics', body: 'Counted', channels: ['email'], ...body },
      headers,
    });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  }
  const until = (id: string, status: string) => untilStatus(t.herald, id, status);

  it('counts an accepted notification by category, its request by route pattern, and its email as sent', async () => {
    const category = uniqueId('metrics');
    const sentBefore = await deliveries('email', 'sent');
    assert.equal(await accepted(category), 0);

    const user = await createUser(`${uniqueId('m')}@example.test`);
    const id = await notify({ userId: user.id, category });
    await until(id, 'sent');

    const api = await apiMetrics();
    assert.equal(valueOf(api, 'herald_notifications_accepted_total', { category }), 1);
    const created = { method: 'POST', route: '/v1/notifications', status: '202' };
    assert.ok(valueOf(api, 'herald_http_request_duration_seconds_count', created) >= 1);
    assert.ok(valueOf(api, 'herald_http_request_duration_seconds_bucket', { ...created, le: '+Inf' }) >= 1);
    const read = { method: 'GET', route: '/v1/notifications/:id', status: '200' };
    assert.ok(valueOf(api, 'herald_http_request_duration_seconds_count', read) >= 1);
    assert.ok(!api.includes(id) && !api.includes(user.id), 'an id leaked into a label');
    for (const s of samples(api).filter((s) => s.name.startsWith('herald_http_request_duration'))) {
      assert.doesNotMatch(s.labels.route!, UUID);
    }
    // Default process metrics, with the prefix.
    assert.ok(valueOf(api, 'herald_process_resident_memory_bytes') > 0);
    assert.match(api, /^herald_nodejs_eventloop_lag_seconds \d/m);

    assert.equal(await deliveries('email', 'sent'), sentBefore + 1);
  });

  it('does not count an idempotent replay, single or bulk', async () => {
    const category = uniqueId('replay');
    const [a, b] = [await createUser(), await createUser()];
    const key = uniqueId('idem');
    const request = { userId: a.id, category, sendAt: SEND_AT };
    const first = await notify(request, { 'idempotency-key': key });
    const replay = await notify(request, { 'idempotency-key': key });
    assert.equal(replay, first);
    assert.equal(await accepted(category), 1);

    const bulk = { recipients: [a.id, b.id], category, title: 'Bulk', body: 'Counted once', sendAt: SEND_AT };
    for (let i = 0; i < 2; i++) {
      const res = await t.herald.api('/v1/notifications/bulk', {
        json: bulk,
        headers: { 'idempotency-key': `${key}-bulk` },
      });
      assert.equal(res.status, 202, await res.clone().text());
      assert.equal(((await res.json()) as { accepted: number }).accepted, 2);
    }
    assert.equal(await accepted(category), 3);
  });

  it('counts a refused email as permanent_failure and an unreachable channel as skipped', async () => {
    const [failedBefore, skippedBefore, sentBefore] = await Promise.all([
      deliveries('email', 'permanent_failure'),
      deliveries('email', 'skipped'),
      deliveries('email', 'sent'),
    ]);
    const user = await createUser(`${uniqueId('refused')}@example.test`);
    t.smtp.failNext(550, 1);
    const refused = await notify({ userId: user.id, category: 'metrics' });
    await until(refused, 'failed');
    assert.equal(await deliveries('email', 'permanent_failure'), failedBefore + 1);

    const noAddress = await createUser();
    const skipped = await notify({ userId: noAddress.id, category: 'metrics' });
    await until(skipped, 'skipped');
    assert.equal(await deliveries('email', 'skipped'), skippedBefore + 1);
    assert.equal(await deliveries('email', 'sent'), sentBefore);

    // Close the failed one rather than leave its workflow waiting for a retry.
    const cancel = await t.herald.api(`/v1/notifications/${refused}/cancel`, { json: {} });
    assert.equal(cancel.status, 200, await cancel.clone().text());
  });

  it('labels unmatched routes "unmatched" and errors inside a route with its pattern', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    assert.equal((await fetch(`${t.herald.apiUrl}/no/such/${missing}`)).status, 404);
    assert.equal((await t.herald.api(`/v1/notifications/${missing}`)).status, 404);
    assert.equal((await fetch(`${t.herald.apiUrl}/v1/notifications/${missing}`)).status, 401);

    const api = await apiMetrics();
    const count = (labels: Record<string, string>) =>
      valueOf(api, 'herald_http_request_duration_seconds_count', labels);
    assert.ok(count({ method: 'GET', route: 'unmatched', status: '404' }) >= 1);
    assert.ok(count({ method: 'GET', route: '/v1/notifications/:id', status: '404' }) >= 1);
    // Refused before routing: the route is not known yet.
    assert.ok(count({ method: 'GET', route: 'unmatched', status: '401' }) >= 1);
    assert.ok(!api.includes(missing), 'a raw path leaked into a label');
  });

  it('answers 404 for /metrics on the public API port: Prometheus scrapes the metrics listener', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${t.herald.apiUrl}/metrics`, { method });
      assert.equal(res.status, 404, method);
      assert.doesNotMatch(await res.text(), /herald_/);
    }
    assert.match(await apiMetrics(), /^# TYPE herald_http_request_duration_seconds histogram$/m);
  });

  it('serves only /metrics on the worker port', async () => {
    const res = await fetch(worker.url.replace(/\/metrics$/, '/other'));
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

/** A metrics listener's settings: `<prefix>_METRICS_PORT` and `_HOST`, off without a port. */
function checkMetricsSettings(prefix: 'WORKER' | 'API', read: (config: Config) => unknown) {
  const base = { DATABASE_URL: 'postgresql://127.0.0.1/herald' };
  const port = `${prefix}_METRICS_PORT`;
  assert.equal(read(loadConfig(base)), undefined);
  assert.deepEqual(read(loadConfig({ ...base, [port]: '9464' })), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(read(loadConfig({ ...base, [port]: '9464', [`${prefix}_METRICS_HOST`]: '0.0.0.0' })), {
    host: '0.0.0.0',
    port: 9464,
  });
  assert.throws(
    () => loadConfig({ ...base, [port]: 'nine' }),
    (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.variable === port),
  );
}

describe('worker metrics port', () => {
  it('is read from WORKER_METRICS_PORT and WORKER_METRICS_HOST, and is off without a port', () => {
    checkMetricsSettings('WORKER', (config) => config.worker.metrics);
  });

  it('is served by the worker process (src/workers/main.ts)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/main.ts'], {
      cwd: projectRoot,
      env: {
        ...process.env,
        DATABASE_URL: process.env.HERALD_TEST_DATABASE_URL,
        TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
        // The queue of a worker that needs no channel provider; the stack above has stopped its own.
        HERALD_QUEUES: 'notifications',
        WORKER_METRICS_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually(async () => output.includes('serving Prometheus metrics') || child.exitCode !== null, {
        timeoutMs: 60_000,
        what: 'the worker to serve metrics',
      });
      assert.equal(child.exitCode, null, output);
      const text = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.match(text, /^# TYPE herald_deliveries_total counter$/m);
      assert.ok(valueOf(text, 'herald_process_resident_memory_bytes') > 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
      assert.equal(await exited, 0, output);
    }
  });
});

describe('API metrics port', () => {
  it('is read from API_METRICS_PORT and API_METRICS_HOST, and is off without a port', () => {
    checkMetricsSettings('API', (config) => config.api.metrics);
  });

  it('is served by the API process (src/api/main.ts) on its own listener, not on the public port', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
      cwd: projectRoot,
      env: {
        ...process.env,
        DATABASE_URL: process.env.HERALD_TEST_DATABASE_URL,
        TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
        API_KEYS: 'metrics-port-key-0123456789abcdef',
        PORT: String(port),
        API_METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually(
        async () =>
          (output.includes('serving Prometheus metrics') && output.includes('API listening')) ||
          child.exitCode !== null,
        { timeoutMs: 60_000, what: 'the API to listen and serve metrics' },
      );
      assert.equal(child.exitCode, null, output);
      const api = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${api}/healthz`)).status, 200);
      const onApiPort = await fetch(`${api}/metrics`);
      assert.equal(onApiPort.status, 404);
      assert.doesNotMatch(await onApiPort.text(), /herald_/);

      const text = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.match(text, /^# TYPE herald_http_request_duration_seconds histogram$/m);
      assert.match(text, /^# TYPE herald_notifications_accepted_total counter$/m);
      assert.ok(valueOf(text, 'herald_process_resident_memory_bytes') > 0);
      const count = (labels: Record<string, string>) =>
        valueOf(text, 'herald_http_request_duration_seconds_count', labels);
      assert.equal(count({ method: 'GET', route: '/healthz', status: '200' }), 1);
      assert.equal(count({ method: 'GET', route: 'unmatched', status: '404' }), 1);
      const other = await fetch(`http://127.0.0.1:${metricsPort}/v1/notifications`);
      assert.equal(other.status, 404, 'the metrics listener serves nothing else');
      await other.body?.cancel();
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
      assert.equal(await exited, 0, output);
    }
  });
});
