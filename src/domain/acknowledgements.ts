// A recipient acknowledges a notification: the door (a Telegram button, a signed link, the inbox) says who
// claims which delivery, the store records the first acknowledgement of it, and the notification's
// workflow hears of it as engagement `acknowledged` (a flow's `wait` step ends on it).
import type { Db } from '../store/db.js';
import {
  recordAcknowledgement,
  type AcknowledgementClaim,
  type RecordedAcknowledgement,
} from '../store/acknowledgements.js';
import { tellWorkflow, type EngagementDeps } from './engagement.js';

export interface AcknowledgeDeps extends EngagementDeps {
  db: Db;
}

/**
 * Records the acknowledgement and tells the workflow the first time; undefined when the claim names no
 * delivery it may acknowledge (nothing changes then).
 */
export async function acknowledge(
  deps: AcknowledgeDeps,
  claim: AcknowledgementClaim,
): Promise<RecordedAcknowledgement | undefined> {
  const recorded = await recordAcknowledgement(deps.db, claim);
  if (recorded?.becameAcknowledged)
    await tellWorkflow(deps, recorded.workflowId, {
      kind: 'acknowledged',
      channel: recorded.channel,
      at: recorded.acknowledgedAt.toISOString(),
    });
  return recorded;
}
