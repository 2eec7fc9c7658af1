// What an operator does in the Temporal Web UI, through the same client calls the UI makes: find the
// failed notifications with the DeliveryStatus search attribute, and retry one by its Signal action
// (`retry`, no input) or by resetting the workflow to just before the failed delivery.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { SearchAttributeType, defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { recordHistory } from './support/histories.js';
import { useOperatorStack } from './support/operator-stack.js';
import { eventually, untilStatus } from './support/stack.js';
import { SEARCH_ATTRIBUTES, statusQuery, workflowIdFor } from '../src/workflows/definitions.js';

const { EventType, IndexedValueType, ResetReapplyType, ResetReapplyExcludeType } =
  proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const deliveryStatusOf = async (handle: WorkflowHandle) =>
  (await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.DeliveryStatus);

/**
 * Workflow ids a visibility query lists right now, with their NotificationId. Read as the UI reads the
 * list, without decoding memos: other tests on this server sealed theirs with other CODEC_KEYS.
 */
async function listed(client: Client, query: string): Promise<Map<string, string | undefined>> {
  const found = new Map<string, string | undefined>();
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      nextPageToken,
    });
    for (const execution of page.executions ?? []) {
      const field = execution.searchAttributes?.indexedFields?.[SEARCH_ATTRIBUTES.NotificationId.name];
      found.set(
        execution.execution!.workflowId!,
        field ? defaultPayloadConverter.fromPayload<string>(field) : undefined,
      );
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return found;
}

/**
 * The reset point the UI offers for a failed delivery: the WorkflowTaskCompleted event just before the
 * ActivityTaskScheduled of the last `activityType` that failed.
 */
function resetPointBefore(
  events: HistoryEvent[],
  activityType: string,
): NonNullable<HistoryEvent['eventId']> {
  const failed = new Set(
    events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
      .map((e) => String(e.activityTaskFailedEventAttributes?.scheduledEventId)),
  );
  const scheduled = events.findLast(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
      e.activityTaskScheduledEventAttributes?.activityType?.name === activityType &&
      failed.has(String(e.eventId)),
  );
  assert.ok(scheduled, `no failed ${activityType} in the history`);
  const completed = events.findLast(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED &&
      Number(String(e.eventId)) < Number(String(scheduled.eventId)),
  );
  assert.ok(completed?.eventId, `no WorkflowTaskCompleted before the failed ${activityType}`);
  // The same event the server records as the task that scheduled the activity.
  assert.equal(
    String(scheduled.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId),
    String(completed.eventId),
  );
  return completed.eventId;
}

describe('operators: search attributes and retry from the Temporal UI', () => {
  const t = useOperatorStack();
  const dbStatus = async (id: string) =>
    (await t.herald.db.notification.findUniqueOrThrow({ where: { id } })).status;

  it("registers Herald's search attributes on the test run's Temporal server", async () => {
    const { customAttributes } = await t.herald.temporal.connection.operatorService.listSearchAttributes({
      namespace: t.herald.config.temporal.namespace,
    });
    for (const key of Object.values(SEARCH_ATTRIBUTES)) {
      const expected =
        {
          [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
          // A broadcast's progress (BroadcastRecipients, BroadcastStarted) is a number.
          [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
        }[key.type as string] ?? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
      assert.equal(customAttributes?.[key.name], expected, key.name);
    }
  });

  it('shows DeliveryStatus "failed" as soon as one lane fails while another still runs', async () => {
    const user = await t.createUser();
    t.smtp.failNext(550);
    t.sms.failNext(10_000, { status: 503 });
    const { id, workflowId } = await t.notify(user.id, ['email', 'sms']);
    const handle = t.herald.temporal.workflow.getHandle(workflowId);

    await eventually(async () => (await deliveryStatusOf(handle)) === 'failed', {
      what: 'DeliveryStatus to be failed',
      timeoutMs: 30_000,
    });
    const status = await handle.query(statusQuery);
    assert.equal(status.state, 'delivering');
    assert.equal(status.channels.email?.state, 'failed');
    assert.equal(status.channels.sms?.state, 'sending');
    const { pendingActivities } = await handle.describe().then((d) => d.raw);
    assert.equal(pendingActivities?.[0]?.activityType?.name, 'deliverSms');

    // The gateway recovers: the round ends partially sent, which overwrites "failed" as before.
    t.sms.reset();
    await t.sms.waitFor((m) => m.to === user.phone, 30_000);
    await untilStatus(t.herald, id, 'partially_sent');
    await eventually(async () => (await deliveryStatusOf(handle)) === 'partially_sent', {
      what: 'DeliveryStatus to be partially_sent',
    });
    await handle.signal('cancel', { reason: 'test over' });
    await recordHistory(handle, 'failed-lane-visible');
  });

  it('lists the failed notifications, and only those, with DeliveryStatus = "failed"', async () => {
    const user = await t.createUser();
    t.smtp.clearFailures();
    t.smtp.failNext(550, 2);
    const failed = [await t.notify(user.id, ['email']), await t.notify(user.id, ['email'])];
    for (const { id } of failed) await untilStatus(t.herald, id, 'failed');
    const sent = [await t.notify(user.id, ['email']), await t.notify(user.id, ['email'])];
    for (const { id } of sent) await untilStatus(t.herald, id, 'sent');

    // Visibility is eventually consistent: wait until it shows this test's notifications both ways.
    const failedList = await eventually(
      async () => {
        const [failedNow, sentNow] = await Promise.all([
          listed(t.herald.temporal, 'DeliveryStatus = "failed"'),
          listed(t.herald.temporal, 'DeliveryStatus = "sent"'),
        ]);
        const caughtUp =
          failed.every((n) => failedNow.has(n.workflowId)) && sent.every((n) => sentNow.has(n.workflowId));
        return caughtUp && failedNow;
      },
      { what: 'visibility to list the notifications', timeoutMs: 30_000 },
    );
    for (const { workflowId } of sent) assert.ok(!failedList.has(workflowId), `${workflowId} is sent`);
    // Other tests share the server: whatever is listed must be failed in PostgreSQL too.
    for (const [workflowId, notificationId] of failedList) {
      assert.ok(notificationId, `${workflowId} has no NotificationId`);
      assert.equal(workflowId, workflowIdFor(notificationId));
      assert.equal(await dbStatus(notificationId), 'failed', workflowId);
    }
    console.log(
      `DeliveryStatus = "failed" listed ${failedList.size} workflows (${failed.length} from this test)`,
    );
  });

  it("retries from the UI's Signal action: `retry` with no input", async () => {
    const user = await t.createUser();
    t.smtp.clearFailures();
    t.smtp.failNext(550);
    const { id, workflowId } = await t.notify(user.id, ['email']);
    await untilStatus(t.herald, id, 'failed');

    // The fault is fixed (the sink accepts again); the UI sends the signal by name, without payloads.
    await t.herald.temporal.workflow.getHandle(workflowId).signal('retry');
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 30_000);
    assert.equal(mail.parsed.subject, 'Invoice ready');
    await untilStatus(t.herald, id, 'sent');
    const delivery = await t.herald.db.delivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(delivery.status, 'sent');
    assert.equal(delivery.attempts, 2);
  });

  it("retries from the UI's Reset to the WorkflowTaskCompleted before the failed deliverEmail", async () => {
    const user = await t.createUser();
    t.smtp.clearFailures();
    t.smtp.failNext(550);
    const { id, workflowId } = await t.notify(user.id, ['email']);
    await untilStatus(t.herald, id, 'failed');
    const failedRun = t.herald.temporal.workflow.getHandle(workflowId);
    const { runId: failedRunId } = await failedRun.describe();
    const eventId = resetPointBefore((await failedRun.fetchHistory()).events ?? [], 'deliverEmail');

    // What the UI's Reset dialog sends (temporalio/ui resetWorkflow, server 1.24 and later).
    const { runId } = await t.herald.temporal.workflowService.resetWorkflowExecution({
      namespace: t.herald.config.temporal.namespace,
      workflowExecution: { workflowId, runId: failedRunId },
      workflowTaskFinishEventId: eventId,
      requestId: randomUUID(),
      reason: 'SMTP fixed: deliver the email again',
      resetReapplyType: ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
      resetReapplyExcludeTypes: [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UNSPECIFIED],
    });
    assert.ok(runId && runId !== failedRunId, 'the reset starts a new run');

    const newRun = t.herald.temporal.workflow.getHandle(workflowId, runId);
    assert.equal(await newRun.result(), 'sent');
    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 30_000);
    assert.equal(mail.parsed.subject, 'Invoice ready');
    assert.equal(t.smtp.messages.filter((m) => m.envelopeTo.includes(user.email)).length, 1);
    await untilStatus(t.herald, id, 'sent');
    const delivery = await t.herald.db.delivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(delivery.status, 'sent');
    assert.equal(delivery.attempts, 2);
    assert.equal(delivery.lastError, null);
    const oldRun = t.herald.temporal.workflow.getHandle(workflowId, failedRunId);
    assert.equal((await oldRun.describe()).status.name, 'TERMINATED');
    assert.equal(await deliveryStatusOf(newRun), 'sent');
  });
});
