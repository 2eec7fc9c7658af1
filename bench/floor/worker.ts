// The floor's worker process (bench/parts/floor.ts starts it): the floor workflows and their no-op
// activities, on Herald's queue layout and tuning.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../../src/platform/config.js';
import { createFloorWorkers } from './create-workers.js';

const config = loadConfigOrExit();
// The SDK's own start-up chatter (no workflows on a channel queue, ...) is not the benchmark's output.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const bundlePath = process.env.FLOOR_BUNDLE_PATH;
if (!bundlePath) throw new Error('FLOOR_BUNDLE_PATH names the floor workflows bundle');

const connection = await NativeConnection.connect({ address: config.temporal.address });
const workers = await createFloorWorkers(connection, config, bundlePath);
console.log('floor worker started');
try {
  await Promise.all(workers.map((worker) => worker.run()));
} finally {
  await connection.close();
}
