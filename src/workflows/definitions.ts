// Names shared by the workflow, its clients (API, bot, tests) and the workers.
// Imported by workflow code: no Node built-ins, no I/O.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const CHANNELS = ['email', 'sms', 'push', 'telegram'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** The workflow's own task queue; each channel's deliveries run on the queue named after the channel. */
export const NOTIFICATIONS_QUEUE = 'notifications';
export const channelQueue = (channel: ChannelName): string => channel;

/** The activity the workflow calls for a channel: `deliverEmail`, `deliverSms`, ... */
export const deliverActivityName = (channel: ChannelName): string =>
  `deliver${channel[0]!.toUpperCase()}${channel.slice(1)}`;

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
}

export type ChannelState = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface NotificationStatus {
  state: 'scheduled' | 'resolving' | 'delivering' | 'completed';
  channels: Partial<Record<ChannelName, { state: ChannelState; error?: string }>>;
}

export type NotificationOutcome = 'sent' | 'partially_sent' | 'failed' | 'skipped';

/** Failure types thrown by delivery activities: permanent ones are never retried. */
export const PERMANENT_FAILURE_TYPE = 'PermanentDeliveryFailure';
export const TRANSIENT_FAILURE_TYPE = 'TransientDeliveryFailure';

export const statusQuery = defineQuery<NotificationStatus>('status');
export const retrySignal = defineSignal('retry');
export const cancelSignal = defineSignal('cancel');

// Custom search attributes: registered on the server by `npm run dev`, the tests and compose.
export const SEARCH_ATTRIBUTES = {
  NotificationId: defineSearchAttributeKey('NotificationId', SearchAttributeType.KEYWORD),
  UserId: defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD),
  Category: defineSearchAttributeKey('Category', SearchAttributeType.KEYWORD),
  Channels: defineSearchAttributeKey('Channels', SearchAttributeType.KEYWORD_LIST),
  DeliveryStatus: defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD),
} as const;

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
export const SEARCH_ATTRIBUTE_FLAGS = Object.values(SEARCH_ATTRIBUTES).map(
  (key) => `${key.name}=${key.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword'}`,
);
