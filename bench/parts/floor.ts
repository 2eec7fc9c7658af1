// The floor: the same server and worker settings running bare workflows of no-op activities.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { FLOOR_QUEUES } from '../floor/workflows.js';
import { perSecond, runConcurrent, sleep, summarize, type LatencySummary } from '../load.js';
import { startMonitor, type MemoryUse } from '../monitor.js';
import { runNodeForJson, spawnNode } from '../../tools/local-stack/processes.js';
import { log, showProgress } from '../progress.js';
import type { BenchStack } from '../stack.js';
import { closedWorkflows, untilClosed } from '../visibility.js';
import { serverProcesses } from './e2e.js';

export interface FloorResult {
  label: string;
  workflowType: string;
  activitiesPerWorkflow: number;
  workflows: number;
  durationMs: number;
  workflowsPerSecond: number;
  startPerSecond: number;
  workflowDuration: LatencySummary;
  cpuSeconds: Record<string, number>;
  memory: Record<string, MemoryUse>;
}

export interface EagerSide {
  workflows: number;
  /** How many the server did start eagerly (handed the first task straight back). */
  eagerlyStarted: number;
  startPerSecond: number;
  startLatency: LatencySummary;
  /** Start to close, from visibility. */
  workflowDuration: LatencySummary;
}

export interface FloorPartResult {
  variants: FloorResult[];
  /** requestEagerStart against a normal start, client and worker in one process. */
  eager: { eager: EagerSide; normal: EagerSide };
}

/** One kind of floor workflow, run `notifications` times. */
export interface FloorVariant {
  label: string;
  workflowType: string;
  activitiesPerWorkflow: number;
}

export const FLOOR_VARIANTS = [
  { label: 'floor', workflowType: 'floorWorkflow', activitiesPerWorkflow: 3 },
  { label: 'floor-shape', workflowType: 'floorShapeWorkflow', activitiesPerWorkflow: 5 },
  // Not a floor: what running resolveRecipient and completeNotification as local activities would buy.
  { label: 'floor-shape-local', workflowType: 'floorShapeLocalWorkflow', activitiesPerWorkflow: 5 },
] as const;

const require = createRequire(import.meta.url);

/** The floor's workflows bundled and their worker started (stop it when done). */
export async function startFloorWorker(stack: BenchStack, profileDir?: string, name = 'floor-worker') {
  const bundlePath = path.join(stack.tmpDir, 'floor-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../floor/workflows.ts'),
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(bundlePath, code);
  const worker = await spawnNode({
    name,
    entry: 'bench/floor/worker.ts',
    env: { ...stack.heraldEnv, FLOOR_BUNDLE_PATH: bundlePath },
    readyLine: /floor worker started/,
    logFile: path.join(stack.tmpDir, `${name}.log`),
    cpuProfileDir: profileDir,
  });
  return { worker, bundlePath };
}

export async function runFloor(
  stack: BenchStack,
  client: Client,
  options: { notifications: number; concurrency: number; profileDir?: string },
): Promise<FloorPartResult> {
  const { worker, bundlePath } = await startFloorWorker(stack, options.profileDir);
  const results: FloorResult[] = [];
  try {
    for (const variant of FLOOR_VARIANTS) {
      results.push(await runVariant(stack, client, variant, worker, options));
    }
  } finally {
    await worker.stop();
  }
  const eager = await runEager(stack, client, bundlePath, options);
  return { variants: results, eager };
}

async function runEager(
  stack: BenchStack,
  client: Client,
  bundlePath: string,
  options: { notifications: number; concurrency: number },
): Promise<FloorPartResult['eager']> {
  const count = Math.min(options.notifications, 500);
  const prefix = `eager-${Date.now().toString(36)}`;
  log(`eager start: ${count} floor workflows with requestEagerStart, ${count} without, one process`);
  type Mode = { latencies: number[]; ms: number; eagerlyStarted: number };
  const modes = await runNodeForJson<Record<'eager' | 'normal', Mode>>(
    'bench/floor/eager.ts',
    [String(count), String(options.concurrency), prefix],
    { ...stack.heraldEnv, FLOOR_BUNDLE_PATH: bundlePath },
  );
  const side = async (mode: 'eager' | 'normal'): Promise<EagerSide> => ({
    workflows: modes[mode].latencies.length,
    eagerlyStarted: modes[mode].eagerlyStarted,
    startPerSecond: perSecond(modes[mode].latencies.length, modes[mode].ms),
    startLatency: summarize(modes[mode].latencies),
    workflowDuration: summarize((await closedWorkflows(client, `${prefix}-${mode}`)).durationsMs),
  });
  return { eager: await side('eager'), normal: await side('normal') };
}

/** Starts `notifications` workflows of the variant, `concurrency` at a time, and waits for all to close. */
export async function runVariant(
  stack: BenchStack,
  client: Client,
  variant: FloorVariant,
  worker: { name: string; pid: number },
  options: { notifications: number; concurrency: number },
): Promise<FloorResult> {
  const n = options.notifications;
  const category = `${variant.label}-${Date.now().toString(36)}`;
  const monitor = startMonitor([
    { name: worker.name, pid: worker.pid, memory: true },
    ...serverProcesses(stack),
  ]);
  let started = 0;
  let closed = 0;
  const stopProgress = showProgress(variant.label, () => `started ${started}/${n} · closed ${closed}/${n}`);
  const began = Date.now();
  let startsDoneAt = 0;
  try {
    await runConcurrent(n, options.concurrency, async (i) => {
      await client.workflow.start(variant.workflowType, {
        taskQueue: FLOOR_QUEUES.workflow,
        workflowId: `${category}-${i}`,
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.Category, value: category }],
      });
      started += 1;
    });
    startsDoneAt = Date.now();
    await untilClosed(client, category, n, (c) => (closed = c), Math.max(300_000, n * 1000));
  } finally {
    stopProgress();
  }
  const cpu = monitor.cpu();
  await sleep(1000);
  const memory = monitor.finish();
  const visibility = await closedWorkflows(client, category);
  const durationMs = visibility.lastCloseAt - began;
  return {
    label: variant.label,
    workflowType: variant.workflowType,
    activitiesPerWorkflow: variant.activitiesPerWorkflow,
    workflows: n,
    durationMs,
    workflowsPerSecond: perSecond(n, durationMs),
    startPerSecond: perSecond(n, startsDoneAt - began),
    workflowDuration: summarize(visibility.durationsMs),
    cpuSeconds: cpu,
    memory,
  };
}
