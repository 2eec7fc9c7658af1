import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../platform/config.js';

// Chosen from `npm run bench` (bench/README.md). A worker's activities share one database pool: 25
// connections delivered more per second than 10, side by side.
//
// Slots: a worker holds a task from the moment it polls it until it is done, whatever its priority, so a
// high-priority task that Temporal dispatches first still waits for a free slot. With the SDK's 40
// workflow tasks and 100 activities per queue, a campaign filled every slot and an urgent notification
// waited seconds for one (docs/benchmarks.md, "Isolation"); with 8 and 20, the backlog stays in Temporal's
// matching, ordered by priority, and end-to-end throughput was the same within the noise (a Node.js
// worker is one thread: more tasks at once only overlap waits on the database and Temporal).
/** Workflow tasks the notifications worker runs at once; WORKER_WORKFLOW_TASK_CONCURRENCY. */
export const WORKFLOW_TASK_SLOTS = 8;
/** Activities a worker runs at once on each queue; WORKER_ACTIVITY_CONCURRENCY. */
export const ACTIVITY_SLOTS = 20;
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
 * benchmark's floor. The workflow cache keeps the SDK's default unless set: it holds every workflow in
 * flight (evicting one replays its history on its next task).
 */
export function workerTuning(config: Pick<Config, 'worker'>): WorkerTuning {
  const { activityConcurrency, workflowTaskConcurrency, cachedWorkflows } = config.worker;
  const activities: Partial<WorkerOptions> = {
    maxConcurrentActivityTaskExecutions: activityConcurrency ?? ACTIVITY_SLOTS,
  };
  return {
    workflowQueue: {
      shutdownGraceTime: SHUTDOWN_GRACE_TIME,
      ...activities,
      maxConcurrentWorkflowTaskExecutions: workflowTaskConcurrency ?? WORKFLOW_TASK_SLOTS,
      ...(cachedWorkflows !== undefined && { maxCachedWorkflows: cachedWorkflows }),
    },
    channelQueue: { shutdownGraceTime: SHUTDOWN_GRACE_TIME, ...activities },
  };
}
