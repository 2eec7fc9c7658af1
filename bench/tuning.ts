// The worker tuning a run used, in words for the report.
import { loadConfig } from '../src/platform/config.js';
import { WORKER_DATABASE_POOL_SIZE, workerTuning } from '../src/workers/tuning.js';

export function workerTuningSummary(heraldEnv: Record<string, string>): string {
  const config = loadConfig({ ...process.env, ...heraldEnv });
  const { workflowQueue, channelQueue } = workerTuning(config);
  const describe = (options: object) =>
    Object.keys(options).length === 0
      ? "the SDK's defaults"
      : Object.entries(options)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ');
  return `notifications queue: ${describe(workflowQueue)}; channel queues: ${describe(channelQueue)}; database pool ${config.databasePoolSize ?? WORKER_DATABASE_POOL_SIZE} per worker process`;
}
