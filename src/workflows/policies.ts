import type { ActivityOptions } from '@temporalio/workflow';
import { PERMANENT_FAILURE_TYPE, channelQueue, urgentQueue, type ChannelName } from './definitions.js';

/** A channel's retry policy, durations in milliseconds; unset fields keep the defaults. */
export interface RetrySettings {
  initialInterval?: number;
  backoffCoefficient?: number;
  maximumInterval?: number;
  /** How long a delivery keeps retrying before it gives up and awaits a retry request. */
  giveUpAfter?: number;
  /** How long one attempt may take (its start-to-close timeout); it sends within a budget below it. */
  attemptTimeout?: number;
}

/** Chosen by the notifications worker's configuration and carried in history, so replays agree. */
export interface DeliverySettings {
  retry: Partial<Record<ChannelName, RetrySettings>>;
  /** How long a notification with failed deliveries waits for a retry before it closes. */
  retryWindowMs: number;
  /** How long a delivery-status webhook is retried until its receiver answers 2xx. */
  webhookRetryForMs: number;
}

// Temporal's retries replace the old repeater: 1 s, doubling, at most 10 min apart, for up to 24 h.
export const DEFAULT_RETRY: Required<RetrySettings> = {
  initialInterval: 1_000,
  backoffCoefficient: 2,
  maximumInterval: 10 * 60_000,
  giveUpAfter: 24 * 3_600_000,
  attemptTimeout: 60_000,
};

/** Temporal notices a worker that died mid-attempt after this long without a heartbeat, at most. */
const HEARTBEAT_TIMEOUT_MS = 15_000;

/**
 * Options for one channel's delivery activity: its own queue (its urgent twin for a workflow that runs on
 * the urgent queue) and its own retry policy.
 */
export function deliveryActivityOptions(
  channel: ChannelName,
  settings?: RetrySettings,
  urgent = false,
): ActivityOptions {
  const retry = { ...DEFAULT_RETRY, ...settings };
  const startToCloseTimeout = Math.min(retry.attemptTimeout, retry.giveUpAfter);
  return {
    taskQueue: urgent ? urgentQueue(channelQueue(channel)) : channelQueue(channel),
    // The attempt keeps its sending within a budget below this (src/activities/attempt-budget.ts).
    startToCloseTimeout,
    // A worker that died mid-attempt is noticed within this; the attempt's lease on its delivery decides
    // when the retry may send.
    heartbeatTimeout: Math.min(HEARTBEAT_TIMEOUT_MS, Math.floor(startToCloseTimeout / 4)),
    scheduleToCloseTimeout: retry.giveUpAfter,
    retry: {
      initialInterval: retry.initialInterval,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumInterval,
      nonRetryableErrorTypes: [PERMANENT_FAILURE_TYPE],
    },
  };
}
