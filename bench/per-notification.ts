// What one notification costs, the inputs of docs/capacity.md: Temporal history events, bytes and state
// transitions (DescribeWorkflowExecution on a sample of the part's workflows), CPU milliseconds in each
// process (utime + stime of its process tree, from /proc, before and after the part), and PostgreSQL's
// rows, bytes per row (pg_total_relation_size over the table's row count) and WAL written.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type pg from 'pg';
import { runConcurrent } from './load.js';

/** Temporal's cost of the sampled workflows: per workflow, the mean (and range of events). */
export interface HistoryCost {
  sampled: number;
  events: { mean: number; min: number; max: number };
  /** History size in bytes (server >= 1.20). */
  bytes: number;
  /** Mutable-state transitions: each is one write to Temporal's persistence. */
  stateTransitions: number;
  /** Events by type per workflow, from the full histories of the first few sampled (EVENT_TYPE_ dropped). */
  eventTypes: Record<string, number>;
}

/** PostgreSQL's cost: rows per notification, what a row takes on disk, and WAL written. */
export interface StorageCost {
  deliveriesPerNotification: number;
  attemptsPerNotification: number;
  /** Table, indexes and TOAST over the table's rows at the end of the part, per table. */
  bytesPerRow: Record<'notifications' | 'deliveries' | 'delivery_attempts', number>;
  /** WAL bytes written during the part over its notifications (pg_wal_lsn_diff). */
  walBytesPerNotification: number;
  /** Committed transactions and rows inserted, updated and deleted (pg_stat_database), per notification. */
  transactionsPerNotification: number;
  rowWritesPerNotification: number;
}

/** Where a part starts: the WAL position and the database's counters. */
export interface DatabaseMark {
  wal: string;
  transactions: number;
  rowWrites: number;
}

export interface PerNotificationCost {
  notifications: number;
  history: HistoryCost;
  /** CPU milliseconds per notification, by process (the benchmark itself included). */
  cpuMs: Record<string, number>;
  storage?: StorageCost;
}

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Workflows described at most, spread over the part; of them, this many read in full for event types. */
export const HISTORY_SAMPLE = 100;
const FULL_HISTORIES = 10;

/** Every k-th id, so the sample covers the start, the middle and the end of the part. */
export function spreadSample<T>(items: readonly T[], size = HISTORY_SAMPLE): T[] {
  const step = Math.max(1, Math.floor(items.length / size));
  return items.filter((_, i) => i % step === 0).slice(0, size);
}

export async function historyCost(client: Client, workflowIds: readonly string[]): Promise<HistoryCost> {
  const described: { events: number; bytes: number; transitions: number }[] = [];
  await runConcurrent(workflowIds.length, 8, async (i) => {
    const d = await client.workflow.getHandle(workflowIds[i]!).describe();
    described.push({
      events: d.historyLength,
      bytes: d.historySize ?? 0,
      transitions: Number(d.raw.workflowExecutionInfo?.stateTransitionCount ?? 0),
    });
  });
  const events = described.map((d) => d.events);
  const eventTypes: Record<string, number> = {};
  const full = workflowIds.slice(0, FULL_HISTORIES);
  for (const id of full) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const event of history.events ?? []) {
      const name = (proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'UNKNOWN').replace(
        /^EVENT_TYPE_/,
        '',
      );
      eventTypes[name] = (eventTypes[name] ?? 0) + 1 / full.length;
    }
  }
  return {
    sampled: described.length,
    events: { mean: round(mean(events), 1), min: Math.min(...events), max: Math.max(...events) },
    bytes: Math.round(mean(described.map((d) => d.bytes))),
    stateTransitions: round(mean(described.map((d) => d.transitions)), 1),
    eventTypes: Object.fromEntries(Object.entries(eventTypes).map(([t, n]) => [t, round(n, 1)])),
  };
}

/** CPU seconds per process over a part, as milliseconds per notification. */
export const cpuMsPerNotification = (cpuSeconds: Record<string, number>, notifications: number) =>
  Object.fromEntries(
    Object.entries(cpuSeconds).map(([name, s]) => [name, round((s * 1000) / Math.max(1, notifications))]),
  );

/** The WAL position and counters now: take it before a part, and give it to storageCost after. */
export async function databaseMark(pool: pg.Pool): Promise<DatabaseMark> {
  const { rows } = await pool.query<{ lsn: string; transactions: string; writes: string }>(
    `SELECT pg_current_wal_lsn()::text AS lsn, xact_commit AS transactions,
            tup_inserted + tup_updated + tup_deleted AS writes
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return {
    wal: rows[0]!.lsn,
    transactions: Number(rows[0]!.transactions),
    rowWrites: Number(rows[0]!.writes),
  };
}

export async function storageCost(
  pool: pg.Pool,
  options: { category: string; notifications: number; atStart: DatabaseMark },
): Promise<StorageCost> {
  const { rows: perNotification } = await pool.query<{ deliveries: string; attempts: string }>(
    `SELECT (SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id
             WHERE n.category = $1) AS deliveries,
            (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
             JOIN notifications n ON n.id = d.notification_id WHERE n.category = $1) AS attempts`,
    [options.category],
  );
  const bytesPerRow = {} as StorageCost['bytesPerRow'];
  for (const table of ['notifications', 'deliveries', 'delivery_attempts'] as const) {
    const { rows } = await pool.query<{ bytes: string; count: string }>(
      `SELECT pg_total_relation_size('${table}') AS bytes, (SELECT count(*) FROM ${table}) AS count`,
    );
    bytesPerRow[table] = Math.round(Number(rows[0]!.bytes) / Math.max(1, Number(rows[0]!.count)));
  }
  const { rows: wal } = await pool.query<{ bytes: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS bytes',
    [options.atStart.wal],
  );
  // Statistics reach pg_stat_database when a backend reports them (at most a second late, or on exit).
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const atEnd = await databaseMark(pool);
  const n = Math.max(1, options.notifications);
  return {
    deliveriesPerNotification: round(Number(perNotification[0]!.deliveries) / n),
    attemptsPerNotification: round(Number(perNotification[0]!.attempts) / n),
    bytesPerRow,
    walBytesPerNotification: Math.round(Number(wal[0]!.bytes) / n),
    transactionsPerNotification: round((atEnd.transactions - options.atStart.transactions) / n, 1),
    rowWritesPerNotification: round((atEnd.rowWrites - options.atStart.rowWrites) / n, 1),
  };
}
