// Tuning side by side: end to end under the configuration as it stands and under each variant
// (--variant), in rounds whose order reverses each time (A B, B A), so a machine that grows busier or
// quieter during the run weighs on every configuration alike.
import type { Client } from '@temporalio/client';
import { median } from '../load.js';
import type { BenchStack } from '../stack.js';
import { runEndToEnd } from './e2e.js';

export interface TuningRun {
  notificationsPerSecond: number;
  p99Ms: number;
  /** CPU milliseconds per notification of the worker, the API and the Temporal server. */
  workerCpuMs: number;
  apiCpuMs: number;
  temporalCpuMs: number;
  workerPeakMiB: number;
  failedActivityAttempts: number;
}

export interface TuningConfig {
  /** Herald environment beyond the stack's; empty for the configuration as it stands. */
  env: Record<string, string>;
  runs: TuningRun[];
  /** Medians over the runs. */
  median: TuningRun;
}

export async function runTuning(
  stack: BenchStack,
  client: Client,
  options: { notifications: number; concurrency: number; variants: Record<string, string>[]; rounds: number },
): Promise<TuningConfig[]> {
  const configs: TuningConfig[] = [{}, ...options.variants].map((env) => ({
    env,
    runs: [],
    median: {} as TuningRun,
  }));
  const perNotification = (seconds = 0) => Math.round((seconds * 1000 * 10) / options.notifications) / 10;
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    for (const config of order) {
      const label = `tuning-${configs.indexOf(config)}-${round + 1}`;
      const r = await runEndToEnd(stack, client, {
        label,
        notifications: options.notifications,
        concurrency: options.concurrency,
        workers: 1,
        env: config.env,
      });
      config.runs.push({
        notificationsPerSecond: r.notificationsPerSecond,
        p99Ms: r.latency.p99,
        workerCpuMs: perNotification(r.cpuSeconds[`${label}-worker-1`]),
        apiCpuMs: perNotification(r.cpuSeconds[`${label}-api`]),
        temporalCpuMs: perNotification(r.cpuSeconds['temporal-server']),
        workerPeakMiB: r.memory[`${label}-worker-1`]?.peakMiB ?? 0,
        failedActivityAttempts: r.failedActivityAttempts,
      });
    }
  }
  for (const config of configs) {
    const keys = Object.keys(config.runs[0]!) as (keyof TuningRun)[];
    config.median = Object.fromEntries(
      keys.map((k) => [k, median(config.runs.map((r) => r[k] ?? 0))]),
    ) as unknown as TuningRun;
  }
  return configs;
}
