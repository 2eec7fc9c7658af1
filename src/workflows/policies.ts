import type { RetryPolicy } from '@temporalio/common';
import { PERMANENT_FAILURE_TYPE, type ChannelName } from './definitions.js';

// Temporal's retries replace the old repeater: 1 s, doubling, at most 10 min apart, for up to 24 h
// (the schedule-to-close bound on each delivery call).
export const DELIVERY_GIVE_UP_AFTER = '24 hours';
const base: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 minutes',
  nonRetryableErrorTypes: [PERMANENT_FAILURE_TYPE],
};

export function deliveryRetryPolicy(_channel: ChannelName): RetryPolicy {
  return base;
}
