// The Markdown summary of a run, beside its JSON and chart.
import type { LatencySummary } from '../load.js';
import type { EndToEndResult } from '../parts/e2e.js';
import { broadcastMarkdown } from '../parts/broadcast.js';
import { bulkMarkdown } from '../parts/bulk.js';
import { isolationMarkdown } from '../parts/isolation.js';
import type { ProcessProfile, ProfileSummary } from './profile.js';
import { perNotificationLines } from './per-notification.js';
import { median } from '../load.js';
import { currentOverBaseline, sideBySide, type BenchReport } from './report.js';

const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const header = (...cells: string[]) => [row(...cells), row(...cells.map(() => '---'))];
const lat = (l: LatencySummary) => `${l.p50} / ${l.p95} / ${l.p99}`;
const perNotification = (seconds: number, n: number) => ((seconds * 1000) / n).toFixed(1);

/** Least-squares slope of resident memory over the second half of a run, in MiB per hour. */
export function memoryTrend(series: readonly [number, number][]): number {
  const half = series.slice(Math.floor(series.length / 2));
  if (half.length < 3) return 0;
  const mx = half.reduce((a, p) => a + p[0], 0) / half.length;
  const my = half.reduce((a, p) => a + p[1], 0) / half.length;
  const sxy = half.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = half.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx > 0 ? Math.round((sxy / sxx) * 3600 * 10) / 10 : 0;
}

function endToEnd(r: EndToEndResult): string[] {
  return [
    ...header('measure', 'value'),
    row('notifications/s (first POST to last workflow closed)', r.notificationsPerSecond),
    row('deliveries/s (first POST to last receipt at a sink)', r.deliveriesPerSecond),
    row('API accepts/s while the workers ran', r.acceptPerSecond),
    row("latency p50 / p95 / p99, API's 202 to the sink (ms)", lat(r.latency)),
    ...Object.entries(r.latencyByChannel).map(([c, l]) => row(`— ${c}`, lat(l))),
    row('workflow start to close p50 / p95 / p99 (ms)', lat(r.workflowDuration)),
    row('activity attempts that failed and were retried', r.failedActivityAttempts),
    row(
      'notifications by final status',
      Object.entries(r.outcomes)
        .map(([s, n]) => `${s} ${n}`)
        .join(', '),
    ),
  ];
}

function cpuTable(parts: { label: string; n: number; cpu: Record<string, number> }[]): string[] {
  const names = [...new Set(parts.flatMap((p) => Object.keys(p.cpu)))];
  return [
    ...header('process', ...parts.map((p) => `${p.label}: CPU s (ms per workflow)`)),
    ...names.map((name) =>
      row(
        name,
        ...parts.map((p) =>
          p.cpu[name] === undefined ? '' : `${p.cpu[name]} (${perNotification(p.cpu[name]!, p.n)})`,
        ),
      ),
    ),
  ];
}

function profileLines(name: string, profile: ProcessProfile): string[] {
  const table = (s: ProfileSummary, label: string) => [
    `**${name}, ${label}**: ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s sampled.`,
    '',
    ...header('package', 'self ms', 'share of busy'),
    ...s.byPackage.map((e) => row(`\`${e.name}\``, e.ms, `${e.share}%`)),
    '',
    ...header('function (top by self time)', 'self ms', 'share'),
    ...s.topFunctions
      .slice(0, 10)
      .map((e) => row(`\`${e.name.replace(/\|/g, '\\|')}\``, e.ms, `${e.share}%`)),
    '',
  ];
  return [
    ...table(profile.main, 'main thread'),
    ...(profile.otherThreads ? table(profile.otherThreads, 'other threads (workflow threads, loader)') : []),
  ];
}

export function renderMarkdown(report: BenchReport, files: { json: string; svg: string }): string {
  const m = report.machine;
  const out: string[] = [
    `# Herald benchmark: ${report.notifications} notifications, ${report.startedAt.slice(0, 10)}`,
    '',
    `Command: \`${report.command}\` (${report.startedAt} to ${report.finishedAt}). Data: [${files.json}](${files.json}).`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Temporal CLI ${m.temporalCli} (dev server, in-memory SQLite), ${m.postgres}. ` +
      `Load average ${m.loadAverage.start} at the start and ${m.loadAverage.end} at the end: the machine was shared, so read the ratios (measured side by side), not the absolute numbers.`,
    '',
    `![chart](${files.svg})`,
    '',
    // A run of parts without a reference (the inbox alone) has no ratio to show.
    ...(report.ratios.length > 0
      ? [
          '## Ratios',
          '',
          ...header('ratio', 'value', 'target', '', 'from'),
          ...report.ratios.map((r) =>
            row(
              r.name,
              r.value,
              r.target ?? '',
              r.target === undefined ? '' : r.value >= r.target ? 'met' : '**short**',
              r.explanation,
            ),
          ),
          '',
        ]
      : []),
    'Settings beyond the defaults:',
    '',
    ...Object.entries(report.settings).map(([k, v]) => `- \`${k}\`: ${v}`),
    '',
  ];
  if (report.e2e) out.push('## End to end (email + push + telegram each)', '', ...endToEnd(report.e2e), '');
  if (report.floor) {
    out.push(
      '## The floor',
      '',
      ...header(
        'workflow',
        'no-op activities',
        'workflows/s',
        'starts/s',
        'start to close p50 / p95 / p99 (ms)',
      ),
    );
    for (const v of report.floor.variants)
      out.push(
        row(
          `\`${v.workflowType}\``,
          v.activitiesPerWorkflow,
          v.workflowsPerSecond,
          v.startPerSecond,
          lat(v.workflowDuration),
        ),
      );
    const { eager, normal } = report.floor.eager;
    out.push(
      '',
      'Eager workflow start (client and worker in one process, one NativeConnection):',
      '',
      ...header(
        'start',
        'starts/s',
        'start call p50 / p95 / p99 (ms)',
        'start to close p50 / p95 / p99 (ms)',
        'started eagerly',
      ),
      row(
        '`requestEagerStart: true`',
        eager.startPerSecond,
        lat(eager.startLatency),
        lat(eager.workflowDuration),
        `${eager.eagerlyStarted}/${eager.workflows}`,
      ),
      row(
        'normal',
        normal.startPerSecond,
        lat(normal.startLatency),
        lat(normal.workflowDuration),
        `${normal.eagerlyStarted}/${normal.workflows}`,
      ),
      '',
    );
  }
  if (report.smtp)
    out.push(
      '## The email channel alone',
      '',
      `nodemailer's pool (Herald's email provider, same settings) straight to the SMTP sink, ${report.smtp.concurrency} sends in flight: **${report.smtp.emailsPerSecond} emails/s** (${report.smtp.emails} in ${report.smtp.durationMs} ms).`,
      '',
    );
  if (report.api) {
    const { api, direct } = report.api;
    out.push(
      `## The API (${report.api.concurrency} requests in flight, nothing polling the namespace)`,
      '',
      ...header('', 'per second', 'latency p50 / p95 / p99 (ms)', 'CPU ms per request'),
      row('POST /v1/notifications', api.perSecond, lat(api.latency), `${api.cpuMsPerRequest} (API process)`),
      row(
        'client.workflow.start',
        direct.perSecond,
        lat(direct.latency),
        `${direct.cpuMsPerRequest} (benchmark process)`,
      ),
      '',
    );
  }
  if (report.scaling) {
    const { oneWorker, twoWorkers } = report.scaling;
    out.push(
      '## Scaling',
      '',
      ...header('worker processes', 'notifications/s', 'deliveries/s', 'latency p50 / p95 / p99 (ms)'),
    );
    for (const r of [oneWorker, twoWorkers])
      out.push(row(r.workerProcesses, r.notificationsPerSecond, r.deliveriesPerSecond, lat(r.latency)));
    out.push('');
  }
  if (report.tuning) {
    out.push(
      '## Tuning side by side (end to end, rounds in alternating order; medians)',
      '',
      ...header(
        'Herald environment',
        'runs: notifications/s',
        'median p99 (ms)',
        'CPU ms per notification: worker / API / Temporal',
        'worker peak MiB',
        'failed activity attempts',
      ),
    );
    for (const c of report.tuning) {
      const env =
        Object.entries(c.env)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(' ') || 'as configured';
      const m = c.median;
      out.push(
        row(
          env,
          c.runs.map((r) => r.notificationsPerSecond).join(', '),
          m.p99Ms,
          `${m.workerCpuMs} / ${m.apiCpuMs} / ${m.temporalCpuMs}`,
          m.workerPeakMiB,
          m.failedActivityAttempts,
        ),
      );
    }
    out.push('');
  }
  if (report.baseline) {
    const b = report.baseline;
    out.push(
      `## Against the baseline ${b.ref} (${b.commit.slice(0, 7)})`,
      '',
      `The e2e and api parts ran Herald at \`${b.ref}\` (${b.commit}) from a git worktree, with its own database, migrations and workflow bundle, on the same Temporal server, sinks and PostgreSQL server as the current checkout (${b.current}). ` +
        `${b.rounds} rounds, the order reversed each round (current first in the first). The sections above show the current's first round; here are all rounds and their medians.`,
      ...b.notes.flatMap((note) => ['', `**Note**: ${note}.`]),
      '',
      ...header(
        'measure',
        'current: each round',
        'current: median',
        `${b.ref}: each round`,
        `${b.ref}: median`,
        'current ÷ baseline',
      ),
      ...sideBySide(report).map((r) =>
        row(
          r.headline ? `**${r.measure}**` : r.measure,
          r.current.join(', '),
          median(r.current, 2),
          r.baseline.join(', '),
          median(r.baseline, 2),
          `${currentOverBaseline(r)} (${r.higherIsBetter ? 'higher' : 'lower'} is better)`,
        ),
      ),
      '',
    );
  }
  if (report.isolation) out.push(...isolationMarkdown(report.isolation));
  if (report.inbox) {
    const i = report.inbox;
    out.push(
      `## In-app inbox (${i.streams} event streams open on one API process)`,
      '',
      ...header('measure', 'value'),
      row(
        '202 to the `message` event at the client, p50 / p95 / p99 / max (ms)',
        `${i.latency.p50} / ${i.latency.p95} / ${i.latency.p99} / ${i.latency.max}`,
      ),
      row('notifications, paced', `${i.notifications} at ${i.ratePerSecond}/s to random open streams`),
      row('events missing / received twice', `${i.missing} / ${i.duplicates}`),
      row('opening every stream (to its first `counts` event)', `${i.openMs} ms`),
      row('API heap in use: no stream, all open (MiB)', i.memory.heapUsedMiB.join(', ')),
      row('API resident set: no stream, all open (MiB)', i.memory.residentMiB.join(', ')),
      row('API heap per open stream', `${i.memory.heapPerStreamKiB} KiB`),
      '',
    );
  }
  if (report.bulk) out.push(...bulkMarkdown(report.bulk));
  if (report.broadcast) out.push(...broadcastMarkdown(report.broadcast));
  const memoryRuns = [report.e2e, report.soak].filter((r): r is EndToEndResult => Boolean(r));
  if (memoryRuns.length > 0 || report.memory) {
    out.push('## Memory (resident set, MiB)', '', ...header('run', 'process', 'start', 'peak', 'after'));
    for (const r of memoryRuns)
      for (const [name, use] of Object.entries(r.memory))
        out.push(row(`${r.label} (${r.notifications})`, name, use.startMiB, use.peakMiB, use.afterMiB));
    if (report.soak)
      out.push(
        '',
        `Soak: ${report.soak.notifications} notifications paced over ${Math.round(report.soak.durationMs / 60000)} min; resident memory trend over its second half: ` +
          Object.entries(report.soak.memory)
            .map(([name, use]) => `${name} ${memoryTrend(use.series)} MiB/h`)
            .join(', ') +
          '.',
      );
    if (report.memory)
      out.push(
        '',
        `A worker's start: prebuilt bundle (WORKFLOW_BUNDLE_PATH) ${report.memory.prebuiltBundle.startupMs} ms and ${report.memory.prebuiltBundle.residentMiB} MiB; bundling at start ${report.memory.bundledAtStart.startupMs} ms and ${report.memory.bundledAtStart.residentMiB} MiB.`,
      );
    out.push('');
  }
  const cpuParts = [
    ...(report.floor?.variants.map((v) => ({ label: v.label, n: v.workflows, cpu: v.cpuSeconds })) ?? []),
    ...(report.e2e ? [{ label: 'Herald e2e', n: report.e2e.notifications, cpu: report.e2e.cpuSeconds }] : []),
  ];
  out.push(...perNotificationLines(report.e2e, report.api));
  if (cpuParts.length > 0)
    out.push(
      '## Where the time goes',
      '',
      'CPU seconds per process while each part ran (and milliseconds per notification or workflow):',
      '',
      ...cpuTable(cpuParts),
      '',
    );
  for (const [name, profile] of Object.entries(report.profiles)) out.push(...profileLines(name, profile));
  out.push(
    'Tuning chosen from these numbers, and what would close a gap: [bench/README.md](../README.md).',
    '',
  );
  return out.join('\n');
}
