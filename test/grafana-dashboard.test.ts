// The Grafana dashboard (deploy/grafana/herald.json) shows only metrics that exist: each expression is
// parsed with Prometheus' own PromQL grammar (@prometheus-io/lezer-promql), and every metric it names is
// in a real scrape, of Herald's API and worker after a notification was delivered, or of the Temporal
// dev server that ran it (test/run.ts starts it with --metrics-port).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { serveMetrics, type MetricsServer } from '../src/platform/metrics.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { uniqueId, untilStatus, useEmailStack } from './support/stack.js';

const DASHBOARD = path.join(projectRoot, 'deploy', 'grafana', 'herald.json');

interface Panel {
  title: string;
  type: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: { query: string } | string }[] };
}

/** Grafana's variables as a query would see them once Grafana filled them in. */
const withVariables = (expr: string) =>
  expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*');

/** The metric names an expression selects; fails on an expression PromQL cannot parse. */
function metricNames(expr: string): string[] {
  const query = withVariables(expr);
  const names: string[] = [];
  parser.parse(query).iterate({
    enter(node) {
      assert.ok(!node.type.isError, `not PromQL at ${node.from}: ${expr}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.push(query.slice(node.from, node.to));
    },
  });
  return names;
}

/** Every sample's metric name in a Prometheus text exposition. */
async function scrapeNames(url: string): Promise<Set<string>> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  const text = await res.text();
  return new Set(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][\w:]*/.exec(line)![0]),
  );
}

describe('Grafana dashboard', () => {
  const t = useEmailStack();
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  // The worker's own listener, in this process beside the test's workers (as src/workers/main.ts serves it).
  let worker: MetricsServer;
  before(async () => {
    worker = await serveMetrics({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await worker?.close();
  });

  it('has a Prometheus datasource variable, and every panel uses it', () => {
    assert.equal(dashboard.uid, 'herald-overview');
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    assert.ok(panels.length >= 10);
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
    }
  });

  it("names only metrics that Herald's API and worker, or the Temporal server, export", async () => {
    const temporalMetrics = process.env.HERALD_TEST_TEMPORAL_METRICS;
    if (!temporalMetrics)
      assert.fail('HERALD_TEST_TEMPORAL_METRICS is not set: run the test through test/run.ts');
    // One notification through the API to the SMTP sink, so every counter has a sample.
    const user = (await (
      await t.herald.api('/v1/users', {
        json: { externalId: uniqueId('dash'), contacts: { email: 'dash@example.test' } },
      })
    ).json()) as { id: string };
    const res = await t.herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'dashboard', title: 'Hi', body: 'There', channels: ['email'] },
    });
    assert.equal(res.status, 202);
    const { id, workflowId } = (await res.json()) as { id: string; workflowId: string };
    await untilStatus(t.herald, id, 'sent');
    await t.herald.temporal.workflow.getHandle(workflowId).result();

    const herald = new Set([...(await scrapeNames(t.herald.metricsUrl)), ...(await scrapeNames(worker.url))]);
    const temporal = await scrapeNames(temporalMetrics);
    const expressions = [
      ...panels.flatMap((p) => (p.targets ?? []).map((target) => ({ where: p.title, expr: target.expr }))),
      // A variable's label_values(metric, label) names a metric too.
      ...dashboard.templating.list.flatMap((v) => {
        const query = typeof v.query === 'string' ? v.query : v.query?.query;
        const metric = query && /^label_values\((\w+),/.exec(query)?.[1];
        return metric ? [{ where: `variable ${v.name}`, expr: metric }] : [];
      }),
    ];
    const unknown: string[] = [];
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: names no metric: ${expr}`);
      for (const name of names)
        if (!herald.has(name) && !temporal.has(name)) unknown.push(`${where}: ${name}`);
    }
    assert.deepEqual(unknown, [], 'metrics no scrape exported');
    // Both halves are there: the dashboard shows Herald and its Temporal server.
    assert.ok(
      expressions.some(({ expr }) => metricNames(expr).some((n) => temporal.has(n) && !herald.has(n))),
    );
    assert.ok(expressions.some(({ expr }) => metricNames(expr).some((n) => n.startsWith('herald_'))));
  });
});
