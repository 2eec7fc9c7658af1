// Requests and answers of audiences: topics, their subscribers, and broadcasts (zod schemas, also the
// source of their OpenAPI document).
import { z } from 'zod';
import { CHANNELS } from '../activities/channels/registry.js';
import {
  acceptedNotificationResponse,
  notificationResponse,
  responseSchemas,
  workflowStatusResponse,
} from './views.js';
import { topicKeySchema } from './schemas.js';

export { topicKeySchema };

const timestamp = z.iso.datetime();
const text = (max: number) => z.string().max(max).regex(/\S/, { message: 'must not be blank' }).trim();

/** Subscribers added or listed per call. */
export const SUBSCRIBE_LIMIT = 1000;

export const putTopicSchema = z.strictObject({
  name: text(200),
  description: text(1000).optional(),
});
export type PutTopic = z.infer<typeof putTopicSchema>;

export const subscribeSchema = z.strictObject({
  /** Herald's ids or externalIds. */
  users: z.array(z.string().min(1).max(200)).min(1).max(SUBSCRIBE_LIMIT),
});

export const topicResponse = z
  .object({
    key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    subscribers: z.int().min(0),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .register(responseSchemas, { id: 'Topic' });
export type TopicResponse = z.infer<typeof topicResponse>;

const itemError = z.object({ type: z.url(), title: z.string(), detail: z.string() });
const subscribeResult = z.union([
  z.object({
    user: z.string(),
    userId: z.uuid(),
    /** `subscribed` by this call, or `already_subscribed` before it. */
    status: z.enum(['subscribed', 'already_subscribed']),
  }),
  z.object({ user: z.string(), error: itemError }),
]);
export type SubscribeResult = z.infer<typeof subscribeResult>;

export const subscribeResponse = z
  .object({
    subscribed: z.int().min(0),
    alreadySubscribed: z.int().min(0),
    failed: z.int().min(0),
    results: z.array(subscribeResult),
  })
  .register(responseSchemas, {
    id: 'SubscribeResult',
    description: 'One result per user, in the order given',
  });
export type SubscribeResponse = z.infer<typeof subscribeResponse>;

export const userTopicsResponse = z
  .object({
    items: z.array(
      z.object({
        key: z.string(),
        name: z.string(),
        description: z.string().nullable(),
        subscribedAt: timestamp,
      }),
    ),
  })
  .register(responseSchemas, { id: 'UserTopics' });
export type UserTopicsResponse = z.infer<typeof userTopicsResponse>;

export const BROADCAST_VIEW_STATUSES = ['accepted', 'starting', 'started', 'completed', 'cancelled'] as const;

export const acceptedBroadcastResponse = z
  .object({
    id: z.uuid(),
    kind: z.literal('broadcast'),
    topic: z.string(),
    status: z.enum(BROADCAST_VIEW_STATUSES),
    /** Subscribers in the snapshot taken when the broadcast was accepted. */
    recipients: z.int().min(0),
    workflowId: z.string(),
  })
  .register(responseSchemas, { id: 'AcceptedBroadcast' });
export type AcceptedBroadcastResponse = z.infer<typeof acceptedBroadcastResponse>;

export const broadcastResponse = z
  .object({
    id: z.uuid(),
    kind: z.literal('broadcast'),
    topic: z.string(),
    category: z.string(),
    /** `started`: every recipient's notification has started; `completed`: and every one has ended. */
    status: z.enum(BROADCAST_VIEW_STATUSES),
    title: z.string().nullable(),
    template: z.string().nullable(),
    channels: z.array(z.enum(CHANNELS)),
    fallback: z.boolean(),
    sendAt: timestamp.nullable(),
    workflowId: z.string(),
    createdAt: timestamp,
    completedAt: timestamp.nullable(),
    progress: z.object({
      /** Subscribers in the snapshot (once every one has started: those started). */
      recipients: z.int().min(0),
      /** Recipients whose notification has started. */
      started: z.int().min(0),
      /** Sent on every planned channel, or on some of them. */
      sent: z.int().min(0),
      failed: z.int().min(0),
      /** Nothing to deliver: the user opted out of the category or has no address on its channels. */
      skipped: z.int().min(0),
      cancelled: z.int().min(0),
    }),
  })
  .register(responseSchemas, {
    id: 'Broadcast',
    description: "A notification to a topic's subscribers: each recipient's is an ordinary notification",
  });
export type BroadcastResponse = z.infer<typeof broadcastResponse>;

// /v1/notifications answers for a broadcast where it would for a notification.
export const acceptedNotificationOrBroadcastResponse = z
  .union([acceptedNotificationResponse, acceptedBroadcastResponse])
  .register(responseSchemas, { id: 'AcceptedNotificationOrBroadcast' });
export const notificationOrBroadcastResponse = z
  .union([notificationResponse, broadcastResponse])
  .register(responseSchemas, { id: 'NotificationOrBroadcast' });
export const cancelledNotificationOrBroadcastResponse = z
  .union([workflowStatusResponse, broadcastResponse])
  .register(responseSchemas, { id: 'CancelledNotificationOrBroadcast' });
