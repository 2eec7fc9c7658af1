import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../platform/config.js';

// Chosen from `npm run bench` (bench/README.md). A worker's activities (up to 100 at once on each of its
// queues) share one database pool: 25 connections delivered more per second than 10, side by side.
// Fewer activity slots (20) won on bursts of 300 but lost on 1,000, where tasks waited in Temporal's
// matching instead of meeting a poller, so the SDK's 100 stay.
/** A worker's database pool; DATABASE_POOL_SIZE. */
export const WORKER_DATABASE_POOL_SIZE = 25;
/**
 * After SIGTERM a worker stops polling and lets running activities finish this long; then they are
 * cancelled and Temporal retries them elsewhere. Below docker-compose.yml's 30 s stop_grace_period.
 */
const SHUTDOWN_GRACE_TIME = '25s';

interface WorkerTuning {
  /** The notifications queue's worker: workflow tasks and the orchestration activities. */
  workflowQueue: Partial<WorkerOptions>;
  /** Each channel queue's worker: delivery activities only. */
  channelQueue: Partial<WorkerOptions>;
}

/**
 * Worker options from the configuration (WORKER_* variables), the same for Herald's workers and the
 * benchmark's floor. Activity and workflow task slots and the workflow cache keep the SDK's defaults
 * unless set: the cache holds every workflow in flight (evicting one replays its history on its next task).
 */
export function workerTuning(config: Pick<Config, 'worker'>): WorkerTuning {
  const { activityConcurrency, workflowTaskConcurrency, cachedWorkflows } = config.worker;
  const activities: Partial<WorkerOptions> =
    activityConcurrency === undefined ? {} : { maxConcurrentActivityTaskExecutions: activityConcurrency };
  return {
    workflowQueue: {
      shutdownGraceTime: SHUTDOWN_GRACE_TIME,
      ...activities,
      ...(workflowTaskConcurrency !== undefined && {
        maxConcurrentWorkflowTaskExecutions: workflowTaskConcurrency,
      }),
      ...(cachedWorkflows !== undefined && { maxCachedWorkflows: cachedWorkflows }),
    },
    channelQueue: { shutdownGraceTime: SHUTDOWN_GRACE_TIME, ...activities },
  };
}
