// Delivery-status webhooks from the workflow's side: when a notification's deliveries settle, every
// endpoint of the API key that sent it gets one signed event, retried by Temporal until it answers 2xx.
import {
  ActivityFailure,
  CancellationScope,
  proxyActivities,
  uuid4,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { NotificationActivities, WebhookActivities } from '../activities/index.js';
import type { NotificationInput, NotificationOutcome, WorkflowStatus } from './definitions.js';

export const WEBHOOKS_QUEUE = 'webhooks';

export const WEBHOOK_EVENT_TYPES = [
  'notification.sent',
  'notification.partially_sent',
  'notification.failed',
  'notification.skipped',
  'notification.cancelled',
  'notification.digested',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An endpoint that hears about this notification, and the events it asked for. */
export interface WebhookTarget {
  id: string;
  events: string[];
}

/** The JSON body Herald POSTs: stable for every attempt, so its id lets a receiver drop repeats. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: {
    notificationId: string;
    userId: string;
    category: string;
    status: NotificationOutcome;
    /** Retry rounds run before this outcome. */
    retries: number;
    channels: WorkflowStatus['channels'];
  };
}

/** Retries every few minutes at most, until the receiver answers 2xx or `retryForMs` has passed. */
const webhookActivityOptions = (retryForMs: number): ActivityOptions => ({
  taskQueue: WEBHOOKS_QUEUE,
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: retryForMs,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const { recordWebhookFailure } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Announces outcomes without holding up the notification: each event runs beside the workflow (and
 * survives its cancellation); `drain` waits for all of them before the workflow closes.
 */
export function createAnnouncer(input: NotificationInput, status: WorkflowStatus) {
  let targets: WebhookTarget[] = [];
  let retryForMs = 0;
  let last: NotificationOutcome | undefined;
  const pending: Promise<void>[] = [];

  return {
    /** Endpoints from the recipient's resolution; none before it (a notification cancelled while scheduled). */
    setTargets(found: WebhookTarget[] | undefined, retryFor: number) {
      targets = found ?? [];
      retryForMs = retryFor;
    },
    announce(outcome: NotificationOutcome, options: { unlessRepeated?: boolean } = {}) {
      if (options.unlessRepeated && outcome === last) return;
      last = outcome;
      const type: WebhookEventType = `notification.${outcome}`;
      const listening = targets.filter((t) => t.events.length === 0 || t.events.includes(type));
      if (listening.length === 0) return;
      const event: WebhookEvent = {
        id: uuid4(),
        type,
        createdAt: new Date().toISOString(),
        data: {
          notificationId: input.notificationId,
          userId: input.userId,
          category: input.category,
          status: outcome,
          retries: status.retries,
          // A copy: later rounds change the status, and the event describes this moment.
          channels: JSON.parse(JSON.stringify(status.channels)) as WorkflowStatus['channels'],
        },
      };
      const { deliverWebhook } = proxyActivities<WebhookActivities>(webhookActivityOptions(retryForMs));
      for (const target of listening) {
        pending.push(
          CancellationScope.nonCancellable(async () => {
            try {
              await deliverWebhook({ endpointId: target.id, event });
            } catch (error) {
              if (!(error instanceof ActivityFailure)) throw error;
              // Out of time: the receiver never answered 2xx. Recorded; the notification itself is unaffected.
              await recordWebhookFailure({
                endpointId: target.id,
                event,
                error: error.cause?.message ?? error.message,
              });
            }
          }),
        );
      }
    },
    drain: () => CancellationScope.nonCancellable(() => Promise.all(pending)),
  };
}
