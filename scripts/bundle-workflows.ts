// Bundles the workflow code ahead of time, so a worker starts without webpack (the Dockerfile runs this):
//   tsx scripts/bundle-workflows.ts [out-file]      default: dist/workflow-bundle.js
// The worker loads it when WORKFLOW_BUNDLE_PATH names it. Build it from the source the workers run: a
// bundle of other workflow code would replay the histories of running notifications differently.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { failureConverterPath } from '../src/lib/codec.js';
import { workflowsPath } from '../src/workers/create-workers.js';

const out = path.resolve(process.argv[2] ?? path.join('dist', 'workflow-bundle.js'));
// The image cannot know whether CODEC_KEYS will be set, so the bundle always carries Herald's failure
// converter: it moves failure messages into a payload, which the worker's codec encrypts when there is
// one and which stays plain JSON, read by every client, when there is not. Payload codecs themselves run
// outside the sandbox and need nothing here.
const { code } = await bundleWorkflowCode({
  workflowsPath,
  failureConverterPath,
  logger: new DefaultLogger('WARN'),
});
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)`);
