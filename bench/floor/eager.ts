// Eager workflow start, where it can apply: a client and a worker sharing one process and one
// NativeConnection (as an API process that also ran the notifications worker would). Starts the floor
// workflow `count` times with requestEagerStart and `count` times without, alternating halves, on the
// same worker, and prints one JSON line per mode. Run it while no other process polls the floor queues.
//   node --import tsx bench/floor/eager.ts <count> <concurrency> <category-prefix>
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../../src/platform/config.js';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { runConcurrent } from '../load.js';
import { untilClosed } from '../visibility.js';
import { createFloorWorkers } from './create-workers.js';
import { FLOOR_QUEUES } from './workflows.js';

const [count, concurrency, prefix] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
const config = loadConfigOrExit();
// The SDK's own start-up chatter (no workflows on a channel queue, ...) is not the benchmark's output.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const workers = await createFloorWorkers(connection, config, process.env.FLOOR_BUNDLE_PATH!);
const running = workers.map((w) => w.run());
// The client rides on the worker's NativeConnection: only then may the server hand the first task back.
const client = new Client({ connection });

const modes = {
  eager: { latencies: [] as number[], ms: 0, eagerlyStarted: 0 },
  normal: { latencies: [] as number[], ms: 0, eagerlyStarted: 0 },
};
async function round(mode: keyof typeof modes, first: number, n: number) {
  const began = performance.now();
  await runConcurrent(
    n,
    concurrency,
    async (i) => {
      const t0 = performance.now();
      const handle = await client.workflow.start('floorWorkflow', {
        taskQueue: FLOOR_QUEUES.workflow,
        workflowId: `${prefix}-${mode}-${i}`,
        requestEagerStart: mode === 'eager',
        typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.Category, value: `${prefix}-${mode}` }],
      });
      modes[mode].latencies.push(performance.now() - t0);
      if (handle.eagerlyStarted) modes[mode].eagerlyStarted += 1;
    },
    first,
  );
  modes[mode].ms += performance.now() - began;
}
const half = Math.floor(count / 2);
await round('normal', 0, half);
await round('eager', 0, half);
await round('eager', half, count - half);
await round('normal', half, count - half);
// The worker stays until every workflow closed; the caller reads their times from visibility.
for (const mode of Object.keys(modes))
  await untilClosed(client, `${prefix}-${mode}`, count, () => {}, 300_000);
console.log(JSON.stringify(modes));
for (const worker of workers) worker.shutdown();
await Promise.all(running);
await connection.close();
