// Names shared by the workflow, its clients (API, bot, tests) and the workers.
// Imported by workflow code: no Node built-ins, no I/O.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

// Only the type: the registry's code (providers, Node built-ins) never enters the workflow bundle.
import type { ChannelName } from '../activities/channels/registry.js';
export type { ChannelName };

/** The workflow's own task queue; each channel's deliveries run on the queue named after the channel. */
export const NOTIFICATIONS_QUEUE = 'notifications';
export const channelQueue = (channel: ChannelName): string => channel;

/**
 * A queue's urgent twin. High-priority notifications run their workflow on `notifications-urgent` and
 * their deliveries on `email-urgent`, `sms-urgent`, ..., served by workers of their own: Temporal's
 * priority orders a queue's backlog, but a worker holds the tasks it polled until they finish, so with a
 * campaign in every slot an urgent task would still wait for one. A worker that serves a queue serves its
 * twin too (src/workers/create-workers.ts); both run the same code.
 */
export const URGENT_SUFFIX = '-urgent';
export const urgentQueue = (queue: string): string => `${queue}${URGENT_SUFFIX}`;
export const isUrgentQueue = (queue: string): boolean => queue.endsWith(URGENT_SUFFIX);

/** The activity the workflow calls for a channel: `deliverEmail`, `deliverSms`, `deliverInApp`, ... */
export const deliverActivityName = (channel: ChannelName): string =>
  `deliver${channel.replace(/(?:^|_)([a-z])/g, (_, letter: string) => letter.toUpperCase())}`;

export const workflowIdFor = (notificationId: string): string => `notification-${notificationId}`;

export interface NotificationInput {
  notificationId: string;
  /** Herald's user id (opaque; never an address). */
  userId: string;
  category: string;
  /** Channels the caller asked for; empty means "every channel the user allows". */
  channels: ChannelName[];
  /** ISO time to deliver at; absent means now. */
  sendAt?: string;
  /** When a channel fails permanently or has no address, try the next one in the user's order. */
  fallback?: boolean;
  /** Ask the channels to add an acknowledge action (a button, a signed link). */
  ack?: boolean;
  /** The flow version the notification runs instead of one delivery (src/workflows/flows/). */
  flow?: FlowRef;
}

/** A flow version pinned on a notification; `startStep` is set on a digest notification (after its digest). */
export interface FlowRef {
  key: string;
  version: number;
  startStep?: number;
}

// One status vocabulary: a notification's status is the same word on its row (the NotificationStatus
// enum), in the API, and in its `DeliveryStatus` search attribute; a delivery's likewise (DeliveryStatus).
// src/store/db.ts fails to compile if the database's enums and these lists part ways.
export const NOTIFICATION_STATUSES = [
  'accepted',
  'scheduled',
  'deferred',
  'processing',
  'sent',
  'partially_sent',
  'failed',
  'skipped',
  'cancelled',
  'digested',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** The statuses a notification ends in. */
export const NOTIFICATION_OUTCOMES = [
  'sent',
  'partially_sent',
  'failed',
  'skipped',
  'cancelled',
  'digested',
] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'retrying',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Set only by a provider's delivery receipt, after the workflow saw the delivery `sent`: the handset got
 * it, or the provider gave up after accepting it. The workflow never waits for them.
 */
export const RECEIPT_STATUSES = ['delivered', 'undelivered'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** The provider accepted the message: such a delivery is never sent again, whatever its receipt says. */
export const ACCEPTED_STATUSES = ['sent', ...RECEIPT_STATUSES] as const;

/** A channel as the workflow sees it: a delivery's status, except that it stays `sending` while it retries. */
export type ChannelState = Exclude<DeliveryStatus, 'retrying' | ReceiptStatus>;
export const CHANNEL_STATES = DELIVERY_STATUSES.filter(
  (s): s is ChannelState => s !== 'retrying' && !(RECEIPT_STATUSES as readonly string[]).includes(s),
);

/** Not a status but where the workflow is, as its `status` query tells (cancel and retry answer with it). */
export const NOTIFICATION_PHASES = [
  'scheduled',
  'resolving',
  'deferred',
  'delivering',
  'awaiting_retry',
  // A flow's delay, wait or throttle step (docs/flows.md).
  'waiting',
  'completed',
  'cancelled',
] as const;
export type NotificationPhase = (typeof NOTIFICATION_PHASES)[number];

export interface ChannelStatus {
  state: ChannelState;
  error?: string;
  /** Whether the failure was permanent (the provider refused) rather than retries running out. */
  permanent?: boolean;
  /** The channel this one stands in for, when it was chosen as a fallback. */
  fallbackFor?: ChannelName;
}

/**
 * The recipient read the notification, opened its link or one of its buttons (the in-app inbox), or
 * acknowledged it (the acknowledge button, link or action its sends carried when asked: `ack`).
 */
export interface EngagementEvent {
  kind: 'read' | 'clicked' | 'acknowledged';
  channel: ChannelName;
  /** When it happened, as the API saw it (ISO). */
  at: string;
  /** The button pressed, by its id; absent for the notification's own link. */
  action?: string;
}

/** What the `status` query returns: the phase and the state of every channel. */
export interface WorkflowStatus {
  state: NotificationPhase;
  /** While scheduled: when delivery starts. */
  sendAt?: string;
  /** While deferred by quiet hours: when they end. */
  deferredUntil?: string;
  /** While awaiting a retry: when the notification closes as failed if none comes. */
  retryDeadline?: string;
  /** Retry rounds run after the first delivery. */
  retries: number;
  outcome?: NotificationOutcome;
  channels: Partial<Record<ChannelName, ChannelStatus>>;
  /** The first read and the first click the workflow heard of (engagementSignal). */
  engagement?: { read?: EngagementEvent; clicked?: EngagementEvent; acknowledged?: EngagementEvent };
  /** In a flow: the step running now (its path, such as `2` or `1.0.0`, and type), as FlowStep shows it. */
  flowStep?: { path: string; type: string };
}

/** Failure types thrown by delivery activities: permanent ones are never retried. */
export const PERMANENT_FAILURE_TYPE = 'PermanentDeliveryFailure';
export const TRANSIENT_FAILURE_TYPE = 'TransientDeliveryFailure';

export interface CancelRequest {
  reason?: string;
}

export const statusQuery = defineQuery<WorkflowStatus>('status');
/** Runs the failed deliveries again while the notification awaits a retry (the Temporal UI sends this). */
export const retrySignal = defineSignal('retry');
/** Stops the notification while it is scheduled, deferred, delivering or awaiting a retry. */
export const cancelSignal = defineSignal<[CancelRequest?]>('cancel');
/**
 * The recipient read or clicked the notification. Only recorded in the status for now; an escalation
 * (send on another channel unless read in time) waits on it. Sent by the API; a closed run ignores it.
 */
export const engagementSignal = defineSignal<[EngagementEvent]>('engagement');
/** The same as the signals, with an answer: refused when there is nothing to retry or cancel. */
export const retryUpdate = defineUpdate<WorkflowStatus>('retryDeliveries');
export const cancelUpdate = defineUpdate<WorkflowStatus, [CancelRequest]>('cancelNotification');

// Custom search attributes: registered on the server by `npm run dev`, the tests and compose.
export const SEARCH_ATTRIBUTES = {
  NotificationId: defineSearchAttributeKey('NotificationId', SearchAttributeType.KEYWORD),
  UserId: defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD),
  Category: defineSearchAttributeKey('Category', SearchAttributeType.KEYWORD),
  Channels: defineSearchAttributeKey('Channels', SearchAttributeType.KEYWORD_LIST),
  DeliveryStatus: defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD),
  // A broadcast's progress (src/workflows/broadcast.ts): its snapshot's size, and notifications started.
  BroadcastRecipients: defineSearchAttributeKey('BroadcastRecipients', SearchAttributeType.INT),
  BroadcastStarted: defineSearchAttributeKey('BroadcastStarted', SearchAttributeType.INT),
  /** A flow's current step, `<path> <type>` (`1 wait`), then `done`. */
  FlowStep: defineSearchAttributeKey('FlowStep', SearchAttributeType.KEYWORD),
} as const;

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
const FLAG_TYPES: Partial<Record<SearchAttributeType, string>> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.INT]: 'Int',
};
export const SEARCH_ATTRIBUTE_FLAGS = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=${FLAG_TYPES[key.type] ?? 'Keyword'}`,
);
