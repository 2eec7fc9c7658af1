import express, { type Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../lib/db.js';
import type { Logger } from '../lib/logger.js';
import { requireApiKey } from './auth.js';
import { acceptBulk } from './bulk.js';
import { rateLimitPerKey } from './rate-limit.js';
import { listNotifications } from './notification-list.js';
import { acceptNotification, actOnNotification, getNotification } from './notifications.js';
import { DOCS_HTML, openApiDocument } from './openapi.js';
import { HttpProblem, problemHandler, problems } from './problem.js';
import { requestContext } from './request-context.js';
import {
  bulkNotificationSchema,
  cancelNotificationSchema,
  createNotificationSchema,
  createUserSchema,
  idempotencyKeySchema,
  listNotificationsQuerySchema,
  localeSchema,
  notificationIdSchema,
  preferencesSchema,
  pushSubscriptionSchema,
  putTemplateSchema,
  subscriptionIdSchema,
  updateUserSchema,
  templateKeySchema,
  userIdParamSchema,
} from './schemas.js';
import { deleteTemplate, getTemplate, putTemplate } from './templates.js';
import {
  addPushSubscription,
  createUser,
  deleteUser,
  findUser,
  getPreferences,
  putPreferences,
  removePushSubscription,
  updateUser,
  userView,
} from './users.js';
import { cancelSignal } from '../workflows/definitions.js';
import { parse } from './validate.js';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  apiKeys: readonly string[];
  /** The VAPID public key browsers subscribe with; push is off without it. */
  vapidPublicKey?: string;
  /** Token bucket per API key (per process); unset means no rate limit. */
  rateLimit?: { perSecond: number; burst: number };
}

export const BODY_LIMIT = '256kb';

/** Refuses a body that is not JSON before it is read. */
const requireJson: express.RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const hasBody = Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding');
    if (hasBody && !req.is('application/json'))
      throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'Send application/json');
  }
  next();
};

const param = (req: Request, name: string): string => parse(userIdParamSchema, req.params[name]);

export function createApp(deps: ApiDeps): express.Express {
  const { db, temporal, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.all([
      db.$queryRaw`SELECT 1`.then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      ),
      temporal.workflowService.getSystemInfo({}).then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      ),
    ]);
    const [database, temporalStatus] = checks;
    const ready = checks.every((check: string) => check === 'ok');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', database, temporal: temporalStatus });
  });

  const spec = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });

  const v1 = express.Router();
  v1.use(requireApiKey(db, deps.apiKeys));
  if (deps.rateLimit) v1.use(rateLimitPerKey(deps.rateLimit));
  v1.use(requireJson);
  v1.use(express.json({ limit: BODY_LIMIT, strict: true }));

  v1.post('/users', async (req, res) => {
    const user = await createUser(db, parse(createUserSchema, req.body));
    res.status(201).location(`/v1/users/${user.id}`).json(userView(user));
  });
  v1.get('/users/:id', async (req, res) => {
    res.json(userView(await findUser(db, param(req, 'id'))));
  });
  v1.patch('/users/:id', async (req, res) => {
    res.json(userView(await updateUser(db, param(req, 'id'), parse(updateUserSchema, req.body))));
  });
  v1.delete('/users/:id', async (req, res) => {
    const { open } = await deleteUser(db, param(req, 'id'));
    // Open notifications would find nothing to deliver anyway; cancelling them says why, at once.
    await Promise.allSettled(
      open.map((workflowId) =>
        temporal.workflow.getHandle(workflowId).signal(cancelSignal, { reason: 'the user was deleted' }),
      ),
    );
    res.status(204).end();
  });
  v1.get('/users/:id/preferences', async (req, res) => {
    res.json(await getPreferences(db, param(req, 'id')));
  });
  v1.put('/users/:id/preferences', async (req, res) => {
    res.json(await putPreferences(db, param(req, 'id'), parse(preferencesSchema, req.body)));
  });
  v1.post('/users/:id/push-subscriptions', async (req, res) => {
    const { created, subscription } = await addPushSubscription(
      db,
      param(req, 'id'),
      parse(pushSubscriptionSchema, req.body),
    );
    res.status(created ? 201 : 200).json(subscription);
  });
  v1.delete('/users/:id/push-subscriptions/:subscriptionId', async (req, res) => {
    await removePushSubscription(
      db,
      param(req, 'id'),
      parse(subscriptionIdSchema, req.params.subscriptionId),
    );
    res.status(204).end();
  });
  v1.get('/push/vapid-public-key', (_req, res) => {
    if (!deps.vapidPublicKey) throw problems.notFound('Web Push is not configured: the VAPID key');
    res.json({ publicKey: deps.vapidPublicKey });
  });

  v1.post('/notifications', async (req, res) => {
    const input = parse(createNotificationSchema, req.body);
    const rawKey = req.header('idempotency-key');
    const idempotencyKey = rawKey === undefined ? undefined : parse(idempotencyKeySchema, rawKey);
    const accepted = await acceptNotification(
      { db, temporal, logger, requestId: req.id, idempotencyKey },
      input,
    );
    res
      .status(202)
      .location(`/v1/notifications/${accepted.id}`)
      .json({ id: accepted.id, status: accepted.status, workflowId: accepted.workflowId });
  });
  v1.get('/notifications', async (req, res) => {
    res.json(await listNotifications(db, parse(listNotificationsQuerySchema, req.query)));
  });
  v1.post('/notifications/bulk', async (req, res) => {
    const input = parse(bulkNotificationSchema, req.body);
    const rawKey = req.header('idempotency-key');
    const idempotencyKey = rawKey === undefined ? undefined : parse(idempotencyKeySchema, rawKey);
    const results = await acceptBulk({ db, temporal, logger, requestId: req.id, idempotencyKey }, input);
    const failed = results.filter((r) => 'error' in r).length;
    res.status(202).json({ accepted: results.length - failed, failed, results });
  });
  v1.get('/notifications/:id', async (req, res) => {
    res.json(await getNotification(db, parse(notificationIdSchema, req.params.id)));
  });
  v1.post('/notifications/:id/cancel', async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id);
    const { reason } = parse(cancelNotificationSchema, req.body ?? {});
    res.json(await actOnNotification(db, temporal, id, { kind: 'cancel', reason }));
  });
  v1.post('/notifications/:id/retry', async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id);
    res.status(202).json(await actOnNotification(db, temporal, id, { kind: 'retry' }));
  });

  v1.put('/templates/:key/:locale', async (req, res) => {
    const key = parse(templateKeySchema, req.params.key);
    const locale = parse(localeSchema, req.params.locale);
    const { created, template } = await putTemplate(db, key, locale, parse(putTemplateSchema, req.body));
    res.status(created ? 201 : 200).json(template);
  });
  v1.get('/templates/:key', async (req, res) => {
    res.json(await getTemplate(db, parse(templateKeySchema, req.params.key)));
  });
  v1.delete('/templates/:key/:locale', async (req, res) => {
    await deleteTemplate(
      db,
      parse(templateKeySchema, req.params.key),
      parse(localeSchema, req.params.locale),
    );
    res.status(204).end();
  });

  app.use('/v1', v1);
  app.use((req, _res) => {
    throw new HttpProblem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(logger));
  return app;
}
