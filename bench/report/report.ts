// The report of one run: every part's measurements, the ratios they are judged by, and its chart.
import type { ApiResult } from '../parts/api.js';
import { broadcastRatio, type BroadcastPartResult } from '../parts/broadcast.js';
import type { BulkPartResult } from '../parts/bulk.js';
import type { EndToEndResult } from '../parts/e2e.js';
import type { FloorPartResult } from '../parts/floor.js';
import type { InboxPartResult } from '../parts/inbox.js';
import { isolationRatio, type IsolationPartResult } from '../parts/isolation.js';
import type { MemoryPartResult } from '../parts/memory.js';
import type { ChannelLimitResult } from '../parts/smtp.js';
import type { TuningConfig } from '../parts/tuning.js';
import { median } from '../load.js';
import type { ProcessProfile } from './profile.js';
import { renderChart, type Panel } from './svg.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  temporalCli: string;
  postgres: string;
  /** 1-minute load average when the run started and ended: other work on the machine. */
  loadAverage: { start: number; end: number };
}

export interface BenchReport {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  notifications: number;
  concurrency: number;
  /** Configuration the run used beyond Herald's defaults, and why. */
  settings: Record<string, string>;
  e2e?: EndToEndResult;
  floor?: FloorPartResult;
  smtp?: ChannelLimitResult;
  api?: ApiResult;
  memory?: MemoryPartResult;
  inbox?: InboxPartResult;
  bulk?: BulkPartResult;
  isolation?: IsolationPartResult;
  broadcast?: BroadcastPartResult;
  scaling?: { oneWorker: EndToEndResult; twoWorkers: EndToEndResult };
  soak?: EndToEndResult;
  /** End to end under the configuration as it stands and each --variant, side by side. */
  tuning?: TuningConfig[];
  /** The e2e and api parts with Herald at --baseline <ref> beside the current checkout. */
  baseline?: BaselineComparison;
  profiles: Record<string, ProcessProfile>;
  ratios: Ratio[];
}

export interface BaselineComparison {
  /** The ref as given, and the commit it named. */
  ref: string;
  commit: string;
  /** The current checkout: its commit, and whether uncommitted changes ran with it. */
  current: string;
  /** What else differed (package.json's dependencies). */
  notes: string[];
  rounds: number;
  /** Each build's runs, one a round (rounds alternate the order). The current's first is `e2e` / `api`. */
  e2e?: { current: EndToEndResult[]; baseline: EndToEndResult[] };
  api?: { current: ApiResult[]; baseline: ApiResult[] };
}

/** One measure of both builds, a value a round each. */
export interface SideBySide {
  measure: string;
  higherIsBetter: boolean;
  current: number[];
  baseline: number[];
  /** Its current ÷ baseline goes into the ratios (the issue's measures). */
  headline?: boolean;
}

export interface Ratio {
  name: string;
  value: number;
  /** The bar it must clear, when it has one. */
  target?: number;
  explanation: string;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
const perNotification = (seconds: number | undefined, n: number) =>
  Math.round(((seconds ?? 0) * 10000) / n) / 10;

/** What the --baseline comparison measured, a row a measure: each build's rounds. */
export function sideBySide(report: Omit<BenchReport, 'ratios'>): SideBySide[] {
  const { e2e, api } = report.baseline ?? {};
  const rows: SideBySide[] = [];
  const both = <T>(
    runs: { current: T[]; baseline: T[] },
    measure: string,
    value: (run: T) => number,
    higherIsBetter: boolean,
    headline = false,
  ) =>
    rows.push({
      measure,
      higherIsBetter,
      headline,
      current: runs.current.map(value),
      baseline: runs.baseline.map(value),
    });
  if (e2e) {
    both(e2e, 'notifications/s', (r) => r.notificationsPerSecond, true, true);
    both(e2e, 'deliveries/s', (r) => r.deliveriesPerSecond, true, true);
    both(e2e, 'latency p50 (ms)', (r) => r.latency.p50, false, true);
    both(e2e, 'latency p95 (ms)', (r) => r.latency.p95, false, true);
    both(e2e, 'latency p99 (ms)', (r) => r.latency.p99, false);
    both(
      e2e,
      'worker CPU ms per notification',
      (r) => perNotification(r.cpuSeconds[`${r.label}-worker-1`], r.notifications),
      false,
    );
    both(
      e2e,
      'API CPU ms per notification',
      (r) => perNotification(r.cpuSeconds[`${r.label}-api`], r.notifications),
      false,
    );
    const bare = report.floor?.variants.find((v) => v.label === 'floor');
    if (bare)
      both(
        e2e,
        'Herald ÷ floor (3 no-op activities)',
        (r) => ratio(r.notificationsPerSecond, bare.workflowsPerSecond),
        true,
      );
  }
  if (api) {
    both(api, 'API accepts/s', (r) => r.api.perSecond, true, true);
    both(api, 'client.workflow.start/s (the reference, same round)', (r) => r.direct.perSecond, true);
    both(
      api,
      'API accepts ÷ direct workflow starts',
      (r) => ratio(r.api.perSecond, r.direct.perSecond),
      true,
    );
    both(api, 'API CPU ms per request', (r) => r.api.cpuMsPerRequest, false);
  }
  return rows;
}

/** Current ÷ baseline of the medians over the rounds. */
export const currentOverBaseline = (row: SideBySide) =>
  ratio(median(row.current, 2), median(row.baseline, 2));

export function computeRatios(report: Omit<BenchReport, 'ratios'>): Ratio[] {
  const ratios: Ratio[] = [];
  const { e2e, floor, smtp, api, scaling } = report;
  const bare = floor?.variants.find((v) => v.label === 'floor');
  const shape = floor?.variants.find((v) => v.label === 'floor-shape');
  if (e2e && bare)
    ratios.push({
      name: 'Herald ÷ floor (3 no-op activities)',
      value: ratio(e2e.notificationsPerSecond, bare.workflowsPerSecond),
      target: 0.8,
      explanation: `${e2e.notificationsPerSecond} notifications/s against ${bare.workflowsPerSecond} bare workflows/s`,
    });
  const local = floor?.variants.find((v) => v.label === 'floor-shape-local');
  if (e2e && local)
    ratios.push({
      name: "Herald ÷ floor of Herald's shape (local resolve and complete, 3 no-op deliveries)",
      value: ratio(e2e.notificationsPerSecond, local.workflowsPerSecond),
      target: 0.8,
      explanation: `${e2e.notificationsPerSecond} notifications/s against ${local.workflowsPerSecond} workflows/s of the same shape with no-op steps`,
    });
  if (bare && shape)
    ratios.push({
      name: 'floor of 5 activities ÷ floor of 3',
      value: ratio(shape.workflowsPerSecond, bare.workflowsPerSecond),
      explanation: "what Temporal alone charges for Herald's two orchestration activities",
    });
  if (shape && local)
    ratios.push({
      name: 'floor of 5 with the 2 orchestration steps local ÷ floor of 5',
      value: ratio(local.workflowsPerSecond, shape.workflowsPerSecond),
      explanation:
        'what local activities for resolveRecipient and completeNotification buy Temporal-side (Herald uses them)',
    });
  if (e2e && smtp)
    ratios.push({
      name: 'Herald emails ÷ nodemailer pool alone',
      value: ratio(e2e.emailsPerSecond, smtp.emailsPerSecond),
      explanation: `${e2e.emailsPerSecond} emails/s end to end against ${smtp.emailsPerSecond} emails/s straight to the sink`,
    });
  if (api)
    ratios.push({
      name: 'API accepts ÷ direct workflow starts',
      value: ratio(api.api.perSecond, api.direct.perSecond),
      target: 0.9,
      explanation: `${api.api.perSecond}/s (p99 ${api.api.latency.p99} ms) against ${api.direct.perSecond}/s (p99 ${api.direct.latency.p99} ms) at ${api.concurrency} in flight`,
    });
  const [asIs, ...variants] = report.tuning ?? [];
  for (const variant of variants) {
    ratios.push({
      name: `tuning as configured ÷ ${Object.entries(variant.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      value: ratio(asIs!.median.notificationsPerSecond, variant.median.notificationsPerSecond),
      explanation: `median of ${asIs!.runs.length} runs each: ${asIs!.median.notificationsPerSecond} against ${variant.median.notificationsPerSecond} notifications/s; worker CPU ${asIs!.median.workerCpuMs} against ${variant.median.workerCpuMs} ms per notification`,
    });
  }
  const b = report.baseline;
  for (const row of sideBySide(report).filter((r) => r.headline))
    ratios.push({
      name: `current ÷ baseline ${b!.ref}: ${row.measure}`,
      value: currentOverBaseline(row),
      explanation: `median of ${b!.rounds} rounds each: ${median(row.current, 2)} against ${median(row.baseline, 2)} (${row.higherIsBetter ? 'above' : 'below'} 1 is better)`,
    });
  if (scaling)
    ratios.push({
      name: 'two worker processes ÷ one',
      value: ratio(scaling.twoWorkers.notificationsPerSecond, scaling.oneWorker.notificationsPerSecond),
      explanation: `${scaling.twoWorkers.notificationsPerSecond} against ${scaling.oneWorker.notificationsPerSecond} notifications/s`,
    });
  if (report.isolation) ratios.push(isolationRatio(report.isolation));
  if (report.broadcast) ratios.push(broadcastRatio(report.broadcast));
  return ratios;
}

export function chartOf(report: BenchReport): string {
  const panels: Panel[] = [];
  const throughput = [
    ...(report.floor?.variants.map((v) => ({
      label: `${v.label} (${v.activitiesPerWorkflow} act.)`,
      value: v.workflowsPerSecond,
    })) ?? []),
    ...(report.e2e
      ? [{ label: 'Herald, 1 worker', value: report.e2e.notificationsPerSecond, herald: true }]
      : []),
    ...(report.scaling
      ? [
          {
            label: 'Herald, 2 workers',
            value: report.scaling.twoWorkers.notificationsPerSecond,
            herald: true,
          },
        ]
      : []),
  ];
  if (throughput.length > 0)
    panels.push({
      kind: 'bars',
      title: 'End to end against the floor',
      unit: 'workflows (notifications) per second',
      bars: throughput,
    });
  const starts = [
    ...(report.api
      ? [
          { label: 'client.workflow.start', value: report.api.direct.perSecond },
          { label: 'POST /v1/notifications', value: report.api.api.perSecond, herald: true },
        ]
      : []),
    ...(report.smtp ? [{ label: 'nodemailer pool alone', value: report.smtp.emailsPerSecond }] : []),
    ...(report.e2e ? [{ label: 'Herald emails', value: report.e2e.emailsPerSecond, herald: true }] : []),
  ];
  if (starts.length > 0)
    panels.push({
      kind: 'bars',
      title: 'Accepting, and the email channel',
      unit: 'per second',
      bars: starts,
    });
  if (report.e2e) {
    const l = report.e2e.latency;
    panels.push({
      kind: 'bars',
      title: "Latency: API's 202 to the sink",
      unit: 'milliseconds, every delivery',
      bars: [
        { label: 'p50', value: l.p50, herald: true },
        { label: 'p95', value: l.p95, herald: true },
        { label: 'p99', value: l.p99, herald: true },
      ],
    });
  }
  const compared = sideBySide(report).filter((r) => r.headline && r.higherIsBetter);
  if (compared.length > 0)
    panels.push({
      kind: 'bars',
      title: `Current against ${report.baseline!.ref} (medians)`,
      unit: 'per second',
      bars: compared.flatMap((r) => [
        { label: `${r.measure}, current`, value: median(r.current, 2), herald: true },
        { label: `${r.measure}, ${report.baseline!.ref}`, value: median(r.baseline, 2) },
      ]),
    });
  if (report.inbox) {
    const l = report.inbox.latency;
    panels.push({
      kind: 'bars',
      title: `Inbox: 202 to the event, ${report.inbox.streams} streams open`,
      unit: 'milliseconds',
      bars: [
        { label: 'p50', value: l.p50, herald: true },
        { label: 'p99', value: l.p99, herald: true },
      ],
    });
  }
  const memory = report.soak?.memory ?? report.e2e?.memory;
  if (memory)
    panels.push({
      kind: 'lines',
      title: report.soak ? 'Resident memory during the soak' : 'Resident memory, end to end',
      unit: 'MiB',
      xUnit: 's',
      series: Object.entries(memory).map(([label, use]) => ({ label, points: use.series })),
    });
  return renderChart(
    `Herald benchmark, ${report.notifications} notifications, ${report.startedAt.slice(0, 10)}`,
    panels,
  );
}
