// Side effects of flows (src/workflows/flows/): reading the pinned version, the throttle's counter,
// joining a digest (signal-with-start) and recording the digest notification a window closes into.
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import { findFlowVersion, passThrottle } from '../store/flows.js';
import { markDigested, recordDigest, type DigestItem } from '../store/digests.js';
import { loadRecipient } from '../store/recipients.js';
import { CHANNEL_DEFINITIONS, CHANNELS, type ChannelName } from './channels/registry.js';
import { NOTIFICATIONS_QUEUE, SEARCH_ATTRIBUTES, type FlowRef } from '../workflows/definitions.js';
import type { DigestStep, Step } from '../workflows/flows/steps.js';
import { digestItemSignal, digestWorkflow, type DigestInput } from '../workflows/flows/digest.js';
import { notificationInputFor, startNotificationWorkflow } from '../domain/notification-workflow.js';

export interface FlowStart {
  steps: Step[];
  data: Record<string, unknown>;
  user: { locale: string | null; timezone: string | null; contacts: ChannelName[] };
}

/** What a branch may look at about the user: taken once, when the flow starts. */
export function createFlowActivities(deps: { db: Db; temporal: Client }) {
  const { db, temporal } = deps;
  return {
    async loadFlow(input: { notificationId: string; userId: string; flow: FlowRef }): Promise<FlowStart> {
      const steps = await findFlowVersion(db, input.flow.key, input.flow.version);
      if (!steps) throw new Error(`flow ${input.flow.key} has no version ${input.flow.version}`);
      const row = await db.notification.findUnique({
        where: { id: input.notificationId },
        select: { data: true },
      });
      const { user } = await loadRecipient(db, input.userId, input.notificationId);
      return {
        steps,
        data: (row?.data ?? {}) as Record<string, unknown>,
        user: {
          locale: user?.locale ?? null,
          timezone: user?.timezone ?? null,
          contacts: user ? CHANNELS.filter((c) => CHANNEL_DEFINITIONS[c]?.hasAddress(user)) : [],
        },
      };
    },

    async passThrottle(input: {
      notificationId: string;
      throttleKey: string;
      limit: number;
      windowMs: number;
    }): Promise<boolean> {
      return passThrottle(db, input);
    },

    /**
     * Marks the notification digested, then adds it to the digest of (user, flow version, key) with
     * signal-with-start: the first item starts the digest's workflow, the others join it.
     */
    async joinDigest(input: {
      notificationId: string;
      userId: string;
      category: string;
      flow: FlowRef;
      stepIndex: number;
      step: DigestStep;
      keyValue: string;
    }): Promise<string> {
      const workflowId = digestWorkflowIdFor(input.userId, input.flow, input.keyValue);
      await markDigested(db, input.notificationId, workflowId);
      const args: DigestInput = {
        userId: input.userId,
        category: input.category,
        flow: { key: input.flow.key, version: input.flow.version, startStep: input.stepIndex + 1 },
        step: input.step,
      };
      await temporal.workflow.signalWithStart(digestWorkflow, {
        workflowId,
        taskQueue: NOTIFICATIONS_QUEUE,
        args: [args],
        signal: digestItemSignal,
        signalArgs: [{ notificationId: input.notificationId }],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.UserId, value: input.userId },
          { key: SEARCH_ATTRIBUTES.Category, value: input.category },
        ],
        memo: { summary: `digest of flow ${input.flow.key} v${input.flow.version} for user ${input.userId}` },
      });
      return workflowId;
    },

    /** Records the digest notification of a closed window and starts it; undefined when emptied. */
    async closeDigest(input: {
      digestId: string;
      digestWorkflowId: string;
      items: string[];
      userId: string;
      flow: FlowRef & { startStep: number };
    }): Promise<{ notificationId: string; count: number } | undefined> {
      const recorded = await recordDigest(db, {
        id: input.digestId,
        digestWorkflowId: input.digestWorkflowId,
        items: input.items,
        userId: input.userId,
        flowKey: input.flow.key,
        flowVersion: input.flow.version,
        startStep: input.flow.startStep,
        render: renderDigest,
      });
      if (!recorded) return undefined;
      const row = await db.notification.findUniqueOrThrow({ where: { id: input.digestId } });
      await startNotificationWorkflow(
        temporal,
        notificationInputFor(row),
        row.workflowId,
        input.digestWorkflowId,
        row,
      ).catch((error: unknown) => {
        // Recorded is accepted: the reconciler starts it if this start did not happen.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      });
      return { notificationId: input.digestId, count: recorded.count };
    },
  };
}
export type FlowActivities = ReturnType<typeof createFlowActivities>;

/** One digest workflow per (user, flow version, key): the id every joining notification signals. */
export function digestWorkflowIdFor(userId: string, flow: FlowRef, keyValue: string): string {
  const keyHash = createHash('sha256').update(keyValue).digest('hex').slice(0, 16);
  return `digest-${flow.key}-v${flow.version}-${userId}-${keyHash}`;
}

/** The digest's default content: every item's title, so every channel shows them without a template. */
function renderDigest(items: DigestItem[]) {
  const titleOf = (item: DigestItem) => item.title ?? item.template ?? 'Notification';
  return {
    title: items.length === 1 ? titleOf(items[0]!) : `${items.length} new notifications`,
    body: items.map((item) => `• ${titleOf(item)}`).join('\n'),
    data: {
      count: items.length,
      items: items.map((item) => ({
        id: item.id,
        title: item.title,
        body: item.body,
        category: item.category,
        data: item.data,
        createdAt: item.createdAt.toISOString(),
      })),
    },
  };
}
