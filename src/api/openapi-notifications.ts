// OpenAPI paths of notifications: send one or many, list, read, cancel and retry.
import { header, json, jsonResponse, link, pathParam, queryParams, v1 } from './openapi-parts.js';
import { bulkResponse, notificationPageResponse, workflowStatusResponse } from '../domain/views.js';
import {
  bulkNotificationSchema,
  cancelNotificationSchema,
  createNotificationSchema,
  idempotencyKeySchema,
  listNotificationsQuerySchema,
  notificationIdSchema,
} from '../domain/schemas.js';
import {
  acceptedNotificationOrBroadcastResponse,
  cancelledNotificationOrBroadcastResponse,
  notificationOrBroadcastResponse,
} from '../domain/topic-views.js';

const notificationIdParam = pathParam('id', notificationIdSchema, 'Notification id');
const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'The same key with the same body returns the first result and sends nothing again',
  schema: json(idempotencyKeySchema),
};
const notificationLinks = {
  GetNotification: link('getNotification', { 'path.id': '$response.body#/id' }),
  CancelNotification: link('cancelNotification', { 'path.id': '$response.body#/id' }),
  RetryNotification: link('retryNotification', { 'path.id': '$response.body#/id' }),
};

export const notificationPaths = {
  '/v1/notifications': {
    get: v1({
      operationId: 'listNotifications',
      summary: 'Notifications newest first, filtered, a page at a time (pass nextCursor as cursor)',
      parameters: queryParams(listNotificationsQuerySchema),
      responses: { '200': jsonResponse('A page of notifications', notificationPageResponse) },
      errors: [404, 422],
    }),
    post: v1({
      operationId: 'sendNotification',
      summary: 'Send a notification to a user, or to every subscriber of a topic (a broadcast)',
      parameters: [idempotencyKeyHeader],
      body: createNotificationSchema,
      responses: {
        '202': jsonResponse('Accepted: a workflow was started', acceptedNotificationOrBroadcastResponse, {
          headers: { Location: header('Location') },
          links: notificationLinks,
        }),
      },
      errors: [409, 503],
    }),
  },
  '/v1/notifications/bulk': {
    post: v1({
      operationId: 'sendBulk',
      summary: 'One notification to up to 10,000 recipients; each is reported on its own',
      parameters: [idempotencyKeyHeader],
      body: bulkNotificationSchema,
      responses: { '202': jsonResponse('Accepted: one result per recipient, id or error', bulkResponse) },
    }),
  },
  '/v1/notifications/{id}': {
    get: v1({
      operationId: 'getNotification',
      summary: "A notification with the state of each channel, or a broadcast with its recipients' progress",
      parameters: [notificationIdParam],
      responses: { '200': jsonResponse('The notification or broadcast', notificationOrBroadcastResponse) },
      errors: [404, 422],
    }),
  },
  '/v1/notifications/{id}/cancel': {
    post: v1({
      operationId: 'cancelNotification',
      summary: 'Cancel a notification that is scheduled, deferred, delivering or awaiting a retry',
      parameters: [notificationIdParam],
      body: cancelNotificationSchema,
      bodyOptional: true,
      responses: {
        '200': jsonResponse(
          "Cancelled; the workflow status, or the broadcast's once no recipient's delivery will start",
          cancelledNotificationOrBroadcastResponse,
        ),
      },
      errors: [404, 409, 503],
    }),
  },
  '/v1/notifications/{id}/retry': {
    post: v1({
      operationId: 'retryNotification',
      summary: 'Run the failed deliveries of a notification again',
      parameters: [notificationIdParam],
      responses: { '202': jsonResponse('Retrying; the workflow status', workflowStatusResponse) },
      errors: [404, 409, 422],
    }),
  },
};
