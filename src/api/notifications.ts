// Notifications over HTTP: /v1/notifications (send one, or a broadcast to a topic), the list, bulk sends,
// cancel by key, and one notification's state, cancel and retry; who reaches which is in readReach/actReach.
import { Router, type Request, type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/db.js';
import type { CategoryPriorities } from '../workflows/priority.js';
import { listNotifications } from '../domain/notification-list.js';
import { acceptNotification, actOnNotification, type NotificationReach } from '../domain/notifications.js';
import { acceptBroadcast, getNotificationOrBroadcast } from '../domain/broadcasts.js';
import { cancelNotificationOrBroadcast } from '../domain/broadcast-cancel.js';
import { cancelByKey } from '../domain/cancellation.js';
import { cancelByKeySchema } from '../domain/flow-schema.js';
import {
  bulkNotificationSchema,
  cancelNotificationSchema,
  createNotificationSchema,
  idempotencyKeySchema,
  listNotificationsQuerySchema,
  notificationIdSchema,
} from '../domain/schemas.js';
import { notificationAccess } from './auth.js';
import { acceptBulk } from './bulk.js';
import type { RateLimiter } from './rate-limit.js';
import { parse } from './validate.js';

export interface NotificationRoutesDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** Default priorities of single notifications by category (CATEGORY_PRIORITIES); none when unset. */
  categoryPriorities?: CategoryPriorities;
  /** The /v1 rate limiter, when there is one: a bulk send is charged a token per recipient. */
  limiter?: RateLimiter;
  /** Sending, cancelling and retrying. */
  send: RequestHandler;
  /** Reading: the list and one notification. */
  read: RequestHandler;
}

/** A key that reads only its own notifications finds no other's: they are absent to it. */
function readReach(req: Request): NotificationReach {
  const access = notificationAccess(req);
  return access.read === 'all' ? {} : { source: access.source, others: 'hidden' };
}
/** Cancel and retry: admin acts on any; send on its own (another's is 403 if it can read it, else 404). */
function actReach(req: Request): NotificationReach {
  const access = notificationAccess(req);
  if (access.act === 'all') return {};
  return { source: access.source, others: access.read === 'all' ? 'forbidden' : 'hidden' };
}

/**
 * Full paths on a router mounted on /v1 without a mount path; /notifications/bulk and /notifications/cancel
 * come before /notifications/:id. The bulk body limit is the /v1 router's (src/api/app.ts).
 */
export function notificationRoutes(deps: NotificationRoutesDeps): Router {
  const { db, temporal, logger, limiter, send, read } = deps;
  const router = Router();
  router.post('/notifications', send, async (req, res) => {
    const input = parse(createNotificationSchema, req.body);
    const rawKey = req.header('idempotency-key');
    const idempotencyKey =
      rawKey === undefined ? undefined : parse(idempotencyKeySchema, rawKey, 'Idempotency-Key');
    const ctx = {
      db,
      temporal,
      logger,
      requestId: req.id,
      idempotencyKey,
      source: req.caller?.keyId,
      categoryPriorities: deps.categoryPriorities,
    };
    if (input.topic !== undefined) {
      const broadcast = await acceptBroadcast(ctx, { ...input, topic: input.topic });
      res.status(202).location(`/v1/notifications/${broadcast.id}`).json(broadcast);
      return;
    }
    const accepted = await acceptNotification(ctx, input);
    res
      .status(202)
      .location(`/v1/notifications/${accepted.id}`)
      .json({ id: accepted.id, status: accepted.status, workflowId: accepted.workflowId });
  });
  router.get('/notifications', read, async (req, res) => {
    const query = parse(listNotificationsQuerySchema, req.query, '(query)');
    res.json(await listNotifications(db, query, { source: readReach(req).source }));
  });
  router.post('/notifications/bulk', send, async (req, res) => {
    const input = parse(bulkNotificationSchema, req.body);
    const rawKey = req.header('idempotency-key');
    const idempotencyKey =
      rawKey === undefined ? undefined : parse(idempotencyKeySchema, rawKey, 'Idempotency-Key');
    // A token a recipient (its arrival took the first), charged before any is accepted.
    limiter?.charge(req, res, input.recipients.length - 1);
    const results = await acceptBulk(
      { db, temporal, logger, requestId: req.id, idempotencyKey, source: req.caller?.keyId },
      input,
    );
    const failed = results.filter((r) => 'error' in r).length;
    res.status(202).json({ accepted: results.length - failed, failed, results });
  });
  // Every notification (and digested item) carrying the key; a send key reaches only its own.
  router.post('/notifications/cancel', send, async (req, res) => {
    const request = parse(cancelByKeySchema, req.body);
    res.json(await cancelByKey(db, temporal, request, actReach(req).source));
  });
  router.get('/notifications/:id', read, async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    res.json(await getNotificationOrBroadcast(db, id, readReach(req)));
  });
  router.post('/notifications/:id/cancel', send, async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    const { reason } = parse(cancelNotificationSchema, req.body ?? {});
    res.json(await cancelNotificationOrBroadcast(db, temporal, id, reason, actReach(req)));
  });
  router.post('/notifications/:id/retry', send, async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    res.status(202).json(await actOnNotification(db, temporal, id, { kind: 'retry' }, actReach(req)));
  });
  return router;
}
