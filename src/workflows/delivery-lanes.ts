import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeliverActivity, DeliveryInput } from '../activities/index.js';
import {
  PERMANENT_FAILURE_TYPE,
  deliverActivityName,
  isUrgentQueue,
  type ChannelName,
  type WorkflowStatus,
} from './definitions.js';
import { deliveryActivityOptions, type DeliverySettings } from './policies.js';
import { broadcastCancellation } from './broadcast-definitions.js';

/**
 * One planned delivery: the channel it started on, then the fallbacks it moved to. It is done when
 * any of them sent the notification.
 */
export interface Lane {
  tried: ChannelName[];
  sent: boolean;
}

export interface DeliveryRound {
  notificationId: string;
  lanes: Lane[];
  /** Channels left to fall back to, in the user's order; shared by the lanes. */
  fallbacks: ChannelName[];
  settings: DeliverySettings;
  status: WorkflowStatus;
  /** Called when a lane ends without sending while other lanes still run. */
  onLaneFailed?: () => void;
  /** Ask the channels to add an acknowledge action (DeliveryInput.ack). */
  ack?: boolean;
  /** A flow step's own content, in place of the notification's (DeliveryInput.content). */
  content?: DeliveryInput['content'];
}

type Result = 'sent' | 'permanent' | 'exhausted';

/** Runs every unfinished lane in parallel; each channel's delivery runs on that channel's queue. */
export async function deliverAll(round: DeliveryRound): Promise<void> {
  const open = round.lanes.filter((lane) => !lane.sent);
  let running = open.length;
  await Promise.all(
    open.map(async (lane) => {
      await runLane(lane, round);
      running -= 1;
      if (!lane.sent && running > 0) round.onLaneFailed?.();
    }),
  );
}

async function runLane(lane: Lane, round: DeliveryRound): Promise<void> {
  // A retry round goes through the channels the lane already tried, in order, before falling back further.
  for (let i = 0; ; i++) {
    const channel = lane.tried[i] ?? takeFallback(lane, round);
    if (!channel) return;
    const result = await deliverOn(channel, round);
    if (result === 'sent') {
      lane.sent = true;
      return;
    }
    // Retries that ran out wait for a retry request; only a refusal moves on to another channel.
    if (result === 'exhausted' && i >= lane.tried.length - 1) return;
  }
}

function takeFallback(lane: Lane, round: DeliveryRound): ChannelName | undefined {
  const next = round.fallbacks.shift();
  if (next) {
    round.status.channels[next] = { state: 'pending', fallbackFor: lane.tried.at(-1) };
    lane.tried.push(next);
  }
  return next;
}

async function deliverOn(channel: ChannelName, round: DeliveryRound): Promise<Result> {
  const { status } = round;
  const fallbackFor = status.channels[channel]?.fallbackFor;
  status.channels[channel] = { state: 'sending', fallbackFor };
  const deliver = proxyActivities<Record<string, DeliverActivity>>(
    // Runs started before urgent queues existed are on `notifications`, so they replay unchanged.
    deliveryActivityOptions(channel, round.settings.retry[channel], isUrgentQueue(workflowInfo().taskQueue)),
  )[deliverActivityName(channel)]!;
  try {
    await deliver({
      notificationId: round.notificationId,
      channel,
      ...(round.ack ? { ack: true } : {}),
      ...(round.content ? { content: round.content } : {}),
    });
    status.channels[channel] = { state: 'sent', fallbackFor };
    return 'sent';
  } catch (error) {
    // Not a failure of the channel: the notification's broadcast was cancelled, the workflow stops.
    if (isCancellation(error) || broadcastCancellation(error) !== undefined) throw error;
    const permanent = isPermanent(error);
    status.channels[channel] = { state: 'failed', error: failureMessage(error), permanent, fallbackFor };
    return permanent ? 'permanent' : 'exhausted';
  }
}

const isPermanent = (error: unknown): boolean =>
  error instanceof ActivityFailure &&
  error.cause instanceof ApplicationFailure &&
  error.cause.type === PERMANENT_FAILURE_TYPE;

/** The provider's reason, found under the activity and timeout wrappers. */
function failureMessage(error: unknown): string {
  let timedOut = false;
  let cause: unknown = error;
  while (cause instanceof ActivityFailure || cause instanceof TimeoutFailure) {
    if (cause instanceof TimeoutFailure) timedOut = true;
    if (!cause.cause) break;
    cause = cause.cause;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return timedOut ? `retries ran out; last error: ${message}` : message;
}
