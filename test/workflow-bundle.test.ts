// The prebuilt workflow bundle the image carries: src/workers/bundle-workflows.ts writes it (`npm run build`
// runs its compiled form into dist/workflow-bundle.js), and a worker set up as src/workers/main.ts does
// (WORKFLOW_BUNDLE_PATH -> prebuiltWorkflowBundle) runs notifications from it, with payload encryption off
// and on (the image cannot know which a deployment uses). test/production-artifact.test.ts runs the
// compiled build itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../src/platform/codec.js';
import { createDb } from '../src/store/db.js';
import { connectTemporalClient } from '../src/platform/temporal-client.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { workflowIdFor } from '../src/workflows/definitions.js';
import { createWorkers, prebuiltWorkflowBundle } from '../src/workers/create-workers.js';
import { TEST_CODEC_ENV } from './support/codec.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import {
  installTestRuntime,
  startHerald,
  testEnv,
  uniqueId,
  untilStatus,
  type RunningStack,
} from './support/stack.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bundle-'));
const bundleFile = path.join(dir, 'workflow-bundle.js');
let smtp: SmtpSink;

before(async () => {
  // The script `npm run build` runs (there compiled, from dist/; here from source).
  execFileSync(process.execPath, ['--import', 'tsx', 'src/workers/bundle-workflows.ts', bundleFile], {
    cwd: projectRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  smtp = await startSmtpSink();
});
after(async () => {
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Herald (workers and API) running the prebuilt bundle, as the image's worker does, with extra settings. */
function useBundledHerald(extra: Record<string, string> = {}): { herald: RunningStack } {
  const stack = {} as { herald: RunningStack };
  before(async () => {
    const config = testEnv({
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Herald <herald@example.test>',
      WORKFLOW_BUNDLE_PATH: bundleFile,
      ...extra,
    });
    stack.herald = await startHerald(config, { workflowBundle: prebuiltWorkflowBundle(config) });
  });
  after(() => stack.herald?.stop());
  return stack;
}

async function createUser(herald: RunningStack): Promise<{ id: string; email: string }> {
  const email = `${uniqueId('bundle')}@example.test`;
  const res = await herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
  assert.equal(res.status, 201, await res.clone().text());
  return { id: ((await res.json()) as { id: string }).id, email };
}

async function notify(herald: RunningStack, userId: string, extra: object = {}): Promise<string> {
  const res = await herald.api('/v1/notifications', {
    json: { userId, category: 'billing', title: 'Prebuilt', body: 'Run by the bundled workflow', ...extra },
  });
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

/** Sends a notification and checks the email arrives and the notification is reported sent. */
async function deliversAnEmail(herald: RunningStack): Promise<void> {
  const user = await createUser(herald);
  const id = await notify(herald, user.id);
  const mail = await smtp.waitFor((m) => m.envelopeTo.includes(user.email));
  assert.equal(mail.parsed.subject, 'Prebuilt');
  await untilStatus(herald, id, 'sent');
}

/**
 * A retry refused by the workflow's update validator: the refusal is a failure made inside the sandbox,
 * so it passes through the failure converter the bundle carries. Returns the API's answer and the
 * failure as Temporal holds it.
 */
async function refusedRetry(herald: RunningStack) {
  const user = await createUser(herald);
  const id = await notify(herald, user.id, { sendAt: new Date(Date.now() + 3_600_000).toISOString() });
  await untilStatus(herald, id, 'scheduled');
  const api = await herald.api(`/v1/notifications/${id}/retry`, { method: 'POST' });
  const { outcome } = await herald.temporal.workflowService.updateWorkflowExecution({
    namespace: herald.config.temporal.namespace,
    workflowExecution: { workflowId: workflowIdFor(id) },
    request: { meta: { updateId: uniqueId('raw-retry') }, input: { name: 'retryDeliveries' } },
    waitPolicy: {
      lifecycleStage:
        proto.temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage
          .UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
    },
  });
  await herald.api(`/v1/notifications/${id}/cancel`, { method: 'POST', json: {} });
  assert.ok(outcome?.failure, 'the retry was not refused');
  const encoding = outcome.failure.encodedAttributes?.metadata?.encoding;
  return {
    api: { status: api.status, detail: ((await api.json()) as { detail: string }).detail },
    message: outcome.failure.message,
    encoding: encoding ? Buffer.from(encoding).toString() : undefined,
  };
}

describe('prebuilt workflow bundle', () => {
  it('is written to the file named on the command line', () => {
    assert.ok(statSync(bundleFile).size > 100_000, 'the bundle is suspiciously small');
  });

  it('is what the worker loads when WORKFLOW_BUNDLE_PATH is set, and nothing when it is not (from source)', () => {
    assert.deepEqual(prebuiltWorkflowBundle(testEnv({ WORKFLOW_BUNDLE_PATH: bundleFile })), {
      codePath: bundleFile,
    });
    assert.equal(prebuiltWorkflowBundle(testEnv()), undefined);
  });

  it('is read from that path: a missing file stops the worker at start', async () => {
    installTestRuntime();
    const config = testEnv({ WORKFLOW_BUNDLE_PATH: path.join(dir, 'missing.js') });
    const db = createDb(config.databaseUrl);
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const temporal = await connectTemporalClient(config);
    try {
      await assert.rejects(
        createWorkers({
          config,
          connection,
          temporal,
          db,
          queues: ['notifications'],
          workflowBundle: prebuiltWorkflowBundle(config),
        }),
        /ENOENT|missing\.js/,
      );
    } finally {
      await temporal.connection.close();
      await connection.close();
      await db.$disconnect();
    }
  });
});

describe('prebuilt workflow bundle, payload encryption off', () => {
  const t = useBundledHerald();

  it('runs a notification through to the email', () => deliversAnEmail(t.herald));

  it('keeps failures made in the workflow readable: plain JSON, no codec needed', async () => {
    const refused = await refusedRetry(t.herald);
    assert.equal(refused.api.status, 409);
    assert.match(refused.api.detail, /nothing to retry: the notification is scheduled/);
    assert.equal(refused.encoding, 'json/plain');
  });
});

describe('prebuilt workflow bundle, payload encryption on (CODEC_KEYS)', () => {
  const t = useBundledHerald(TEST_CODEC_ENV);

  it('runs a notification through to the email', () => deliversAnEmail(t.herald));

  it('encrypts failures made in the workflow, and Herald still reads them', async () => {
    const refused = await refusedRetry(t.herald);
    assert.equal(refused.api.status, 409);
    assert.match(refused.api.detail, /nothing to retry: the notification is scheduled/);
    assert.equal(refused.message, 'Encoded failure');
    assert.equal(refused.encoding, ENCRYPTED_ENCODING);
  });
});
