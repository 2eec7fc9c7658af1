// `npx tsx bench/capacity.ts bench/results/<report>.json [<footprint>.json]`: the sizing tables of
// docs/capacity.md from a benchmark report's per-notification costs (the e2e and api parts), under the
// assumptions below, which docs/capacity.md states and explains. Bytes per row come from the report, or
// from bench/history-footprint.ts's output when given (measured over 100,000 notifications: a small
// table overstates them). Nothing runs: it is arithmetic on measured figures.
import { readFileSync } from 'node:fs';
import type { BenchReport } from './report/report.js';

/** The assumptions, each stated in docs/capacity.md. */
export const ASSUMPTIONS = {
  /** Peak rate over the day's average rate. */
  peakFactor: 3,
  /** Share of a core a process may use at peak: the rest is headroom for retries, GC and a lost node. */
  coreUtilisation: 0.6,
  /** Attempts per delivery: the benchmark's sinks never fail; providers do (429, 5xx, timeouts). */
  attemptsPerDelivery: 1.1,
  /** State transitions one Temporal history shard is given at peak (a quarter of ~100/s, for headroom). */
  transitionsPerShard: 25,
  /** Temporal's suggested minimum for production; the count is fixed when the cluster is created. */
  minShards: 512,
  /** Days Herald keeps history (HISTORY_RETENTION) and Temporal keeps closed workflows (its retention). */
  historyRetentionDays: 400,
  temporalRetentionDays: 7,
  /** Share of the worker's CPU that is the workflow (notifications queue); the rest spread over channels. */
  workflowShare: 0.5,
  /** API replicas beyond what the load needs, so one can fail or roll. */
  spareApiReplicas: 1,
} as const;

const DAILY = [1e6, 1e7, 1e8];
const SECONDS_PER_DAY = 86_400;

const fmt = (n: number, digits = 0) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits).replace(/\.0+$/, '');
const bytes = (n: number) => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
};
const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** What bench/history-footprint.ts prints (the part used here). */
interface Footprint {
  sizes: Record<'notifications' | 'deliveries' | 'delivery_attempts', { bytesPerRow: number }>;
}

export function capacityTables(report: BenchReport, footprint?: Footprint): string {
  const cost = report.e2e?.perNotification;
  const api = report.api;
  if (!cost?.storage || !api)
    throw new Error('the report needs the e2e and api parts with per-notification costs');
  const a = ASSUMPTIONS;
  const cpu = (name: string) =>
    Object.entries(cost.cpuMs).find(([process]) => process === name || process.endsWith(`-${name}`))?.[1] ??
    0;
  const workerMs = cpu('worker-1');
  const apiMs = Math.max(cpu('api'), api.api.cpuMsPerRequest);
  const temporalMs = cpu('temporal-server');
  const postgresMs = cpu('postgres');
  const s = cost.storage;
  const bytesPerRow = footprint
    ? {
        notifications: footprint.sizes.notifications.bytesPerRow,
        deliveries: footprint.sizes.deliveries.bytesPerRow,
        delivery_attempts: footprint.sizes.delivery_attempts.bytesPerRow,
      }
    : s.bytesPerRow;
  const deliveries = s.deliveriesPerNotification;
  const attempts = deliveries * a.attemptsPerDelivery;
  const rowBytes =
    bytesPerRow.notifications +
    deliveries * bytesPerRow.deliveries +
    attempts * bytesPerRow.delivery_attempts;
  const upserts = cost.history.eventTypes.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES ?? 0;
  // Visibility: a record when the workflow starts and closes, and one per search-attribute upsert.
  const visibilityWrites = 2 + upserts;
  const cores = (perSecond: number, ms: number) => (perSecond * ms) / 1000 / a.coreUtilisation;

  const rows: string[][] = [];
  for (const daily of DAILY) {
    const average = daily / SECONDS_PER_DAY;
    const peak = average * a.peakFactor;
    const transitions = peak * cost.history.stateTransitions;
    const workerCores = cores(peak, workerMs);
    const workflowProcesses = Math.max(2, Math.ceil(workerCores * a.workflowShare));
    const channelProcesses = Math.max(2, Math.ceil((workerCores * (1 - a.workflowShare)) / 3));
    rows.push([
      `${fmt(daily / 1e6)} million`,
      `${fmt(average, 1)} / ${fmt(peak, 1)}`,
      `${fmt(nextPowerOfTwo(Math.max(a.minShards, transitions / a.transitionsPerShard)))} (${fmt(transitions)} transitions/s)`,
      `${fmt(peak * (cost.history.stateTransitions + visibilityWrites))} writes/s; ${bytes(cost.history.bytes * daily * a.temporalRetentionDays)} of history`,
      `${fmt(Math.ceil(cores(peak, temporalMs)))}`,
      `notifications ${workflowProcesses}; email, push, telegram ${channelProcesses} each`,
      `${Math.max(2, Math.ceil(cores(peak, apiMs)) + a.spareApiReplicas)}`,
      `${bytes(rowBytes * daily * a.historyRetentionDays)}; ${fmt((daily * (1 + deliveries + attempts)) / 1e6)} M rows/day`,
      `${fmt(peak * s.transactionsPerNotification)} tx/s, ${fmt(peak * s.rowWritesPerNotification)} row writes/s, ${bytes(peak * s.walBytesPerNotification)}/s WAL; cores: ${fmt(Math.ceil(cores(peak, postgresMs)))}`,
    ]);
  }
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const header = [
    'notifications a day',
    'per second: average / peak',
    'Temporal history shards',
    'Temporal persistence at peak; history kept',
    'Temporal server cores',
    'worker processes per queue',
    'API replicas',
    'PostgreSQL size (HISTORY_RETENTION 400d)',
    'PostgreSQL at peak',
  ];
  return [
    row(header),
    row(header.map(() => '---')),
    ...rows.map(row),
    '',
    `Per notification, from the report: ${cost.history.events.mean} history events, ${cost.history.stateTransitions} state transitions, ${cost.history.bytes} bytes of history, ${upserts} search-attribute upserts; CPU ms: worker ${workerMs}, API ${apiMs}, Temporal server ${temporalMs}, PostgreSQL ${postgresMs}; ${deliveries} deliveries and ${fmt(attempts, 1)} attempts (${a.attemptsPerDelivery} per delivery), ${Math.round(rowBytes)} bytes of rows (${bytesPerRow.notifications}, ${bytesPerRow.deliveries} and ${bytesPerRow.delivery_attempts} per row), ${s.transactionsPerNotification} transactions, ${s.rowWritesPerNotification} row writes and ${s.walBytesPerNotification} bytes of WAL.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file?.endsWith('.json')) {
    console.error('usage: npx tsx bench/capacity.ts bench/results/<report>.json [<footprint>.json]');
    process.exit(64);
  }
  const read = <T>(name: string) => JSON.parse(readFileSync(name, 'utf8')) as T;
  const footprint = process.argv[3];
  console.log(capacityTables(read<BenchReport>(file), footprint ? read<Footprint>(footprint) : undefined));
}
