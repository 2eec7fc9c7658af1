// Memory beyond the end-to-end samples: what the prebuilt workflow bundle saves a worker at start.
import { startHeraldProcesses } from '../herald.js';
import { sleep } from '../load.js';
import { residentBytes } from '../../tools/local-stack/processes.js';
import { log } from '../progress.js';
import type { BenchStack } from '../stack.js';

export interface WorkerStart {
  /** Spawn to "worker started". */
  startupMs: number;
  /** Resident memory two seconds after it started, idle. */
  residentMiB: number;
}

export interface MemoryPartResult {
  /** WORKFLOW_BUNDLE_PATH set (as the Dockerfile does) against bundling with webpack at start. */
  prebuiltBundle: WorkerStart;
  bundledAtStart: WorkerStart;
}

async function startOnce(
  stack: BenchStack,
  label: string,
  env: Record<string, string>,
): Promise<WorkerStart> {
  const herald = await startHeraldProcesses(stack, { label, workers: 1, api: false, env });
  try {
    await sleep(2000);
    const worker = herald.workers[0]!;
    return {
      startupMs: Math.round(worker.startupMs),
      residentMiB: Math.round((residentBytes(worker.pid) ?? 0) / 1024 / 1024),
    };
  } finally {
    await herald.stop();
  }
}

export async function runMemory(stack: BenchStack): Promise<MemoryPartResult> {
  log('memory: a worker started with the prebuilt bundle, then one that bundles at start');
  const prebuiltBundle = await startOnce(stack, 'start-prebuilt', {});
  // An empty variable counts as unset (src/platform/config.ts): the worker bundles with webpack.
  const bundledAtStart = await startOnce(stack, 'start-bundling', { WORKFLOW_BUNDLE_PATH: '' });
  return { prebuiltBundle, bundledAtStart };
}
