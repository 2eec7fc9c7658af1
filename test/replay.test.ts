// Runs recorded notification histories (test/fixtures/histories, made by `npm run record-histories`)
// through the current workflow code: a change that is not replay-safe fails here, before it can break
// notifications already running in production. docs/workflow-versioning.md has the procedure.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../src/platform/codec.js';
import { workflowSpanSinks } from '../src/platform/telemetry.js';
import { testCodec } from './support/codec.js';
import { loadHistories } from './support/histories.js';
import { installTestRuntime, workflowBundle } from './support/stack.js';

installTestRuntime();

async function replay(
  bundle: Awaited<ReturnType<typeof workflowBundle>>,
  histories = loadHistories(),
  // Histories recorded with encryption on are sealed with the test keys; the others pass through.
  payloadCodecs = [testCodec()],
) {
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    // The tracing interceptors are in the bundle, as in production: their sink is registered too.
    { workflowBundle: bundle, dataConverter: { payloadCodecs }, sinks: workflowSpanSinks() },
    histories,
  )) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  return { replayed, failures };
}

describe('replay of recorded workflow histories', () => {
  it('replays every recorded history through the current workflow code', async () => {
    const histories = loadHistories();
    assert.ok(histories.length >= 10, `expected the recorded histories, found ${histories.length}`);
    // Flows (docs/flows.md): notifications running steps, and the digest workflow.
    const flows = histories.filter(({ workflowId }) => workflowId.startsWith('flow-'));
    assert.ok(flows.length >= 6, `expected the recorded flow histories, found ${flows.length}`);
    assert.ok(flows.some(({ workflowId }) => workflowId === 'flow-digest'));
    const { replayed, failures } = await replay(await workflowBundle());
    assert.equal(replayed, histories.length);
    assert.deepEqual(failures, []);
  });

  it('replays the histories recorded with payload encryption on, which need the keys', async () => {
    const sealed = loadHistories().filter(({ history }) => {
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      return Buffer.from(input?.metadata?.encoding ?? []).toString() === ENCRYPTED_ENCODING;
    });
    assert.ok(sealed.length >= 1, 'no history was recorded with encryption on');
    const withKeys = await replay(await workflowBundle(), sealed);
    assert.deepEqual(withKeys.failures, []);
    assert.equal(withKeys.replayed, sealed.length);
    const withoutKeys = await replay(await workflowBundle(), sealed, []);
    assert.equal(withoutKeys.failures.length, sealed.length, withoutKeys.failures.join('\n'));
  });

  it('fails on a workflow change that is not replay-safe', async () => {
    const require = createRequire(import.meta.url);
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/nondeterministic/index.ts'),
      logger: new DefaultLogger('ERROR'),
    });
    const { failures } = await replay(changed);
    assert.equal(failures.length, loadHistories().length);
    assert.match(failures[0]!, /Nondeterminism|DeterminismViolation/i);
  });
});
