// Bundles the workflow code ahead of time, so a worker starts without webpack (the Dockerfile runs this):
//   tsx src/workers/bundle-workflows.ts [out-file]      default: dist/workflow-bundle.js
// The worker loads it when WORKFLOW_BUNDLE_PATH names it. Build it from the source the workers run: a
// bundle of other workflow code would replay the histories of running notifications differently.
import path from 'node:path';
import { writeWorkflowBundle } from './create-workers.js';

const out = path.resolve(process.argv[2] ?? path.join('dist', 'workflow-bundle.js'));
const size = await writeWorkflowBundle(out);
console.log(`workflow bundle written to ${out} (${Math.round(size / 1024)} KiB)`);
