// Telling a notification's workflow what its recipient did (read, clicked, acknowledged): the inbox and
// the acknowledgement doors record it first, then signal. The record is what counts; the signal is best
// effort, bounded, and a workflow that has closed has nothing to wait for.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../platform/logger.js';
import { engagementSignal, type EngagementEvent } from '../workflows/definitions.js';

export interface EngagementDeps {
  temporal: Client;
  logger: Logger;
}

/** A signal waits this long for Temporal: the engagement is recorded already, and the person should not wait. */
const SIGNAL_DEADLINE_MS = 2_000;

export async function tellWorkflow(
  deps: EngagementDeps,
  workflowId: string,
  event: EngagementEvent,
): Promise<void> {
  try {
    await deps.temporal.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      deps.temporal.workflow.getHandle(workflowId).signal(engagementSignal, event),
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    deps.logger.warn({ err: error, workflowId, kind: event.kind }, 'could not signal the notification');
  }
}
