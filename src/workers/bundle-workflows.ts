// Bundles the workflow code ahead of time, so a worker starts without webpack. `npm run build` (which the
// image's build stage runs) runs the compiled form after tsc:
//   node dist/workers/bundle-workflows.js [out-file]    default: dist/workflow-bundle.js
//   tsx src/workers/bundle-workflows.ts [out-file]       the same from source (tests, bench, chaos)
// The worker loads the file WORKFLOW_BUNDLE_PATH names, else dist/workflow-bundle.js beside the compiled code.
// Build it from the code the workers run: a bundle of other workflow code would replay running
// notifications differently.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWorkflowBundle } from './create-workers.js';

// From src/workers or dist/workers alike: <project>/dist/workflow-bundle.js.
const defaultOut = fileURLToPath(new URL('../../dist/workflow-bundle.js', import.meta.url));
const out = path.resolve(process.argv[2] ?? defaultOut);
const size = await writeWorkflowBundle(out);
console.log(`workflow bundle written to ${out} (${Math.round(size / 1024)} KiB)`);
