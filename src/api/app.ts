import express, { type Request } from 'express';
import { BODY_LIMIT, requireJson } from './credentials.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config.js';
import { pingDatabase, type Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { observeRequests } from '../platform/metrics.js';
import { notificationAccess, requireApiKey, requireScope, type UnknownKeyLimit } from './auth.js';
import { acceptBulk, BULK_BODY_LIMIT } from './bulk.js';
import type { CategoryPriorities } from '../workflows/priority.js';
import { CODEC_PATH, codecRoutes, type CodecServerOptions } from './codec.js';
import { rateLimitPerKey } from './rate-limit.js';
import { listNotifications } from '../domain/notification-list.js';
import {
  acceptNotification,
  actOnNotification,
  getNotification,
  type NotificationReach,
} from '../domain/notifications.js';
import { openApiDocument } from './openapi.js';
import { apiDocsRoutes } from './api-docs.js';
import {
  preferenceCenterRoutes,
  preferencesLinkIssuer,
  type PreferenceCenterOptions,
} from './preference-center.js';
import { HttpProblem, problemHandler, problems } from './problem.js';
import { requestContext } from './request-context.js';
import { traceRequests } from './request-tracing.js';
import {
  bulkNotificationSchema,
  cancelNotificationSchema,
  createNotificationSchema,
  splitContacts,
  createUserSchema,
  idempotencyKeySchema,
  listNotificationsQuerySchema,
  localeSchema,
  notificationIdSchema,
  preferencesSchema,
  putTemplateSchema,
  subscriptionIdSchema,
  updateUserSchema,
  templateKeySchema,
  userIdParamSchema,
} from '../domain/schemas.js';
import { deleteTemplate, getTemplate, putTemplate } from '../domain/templates.js';
import { revokeLinks } from '../domain/link-revocation.js';
import { TELEGRAM_WEBHOOK_PATH, telegramLinkIssuer, telegramWebhook } from './telegram.js';
import { TWILIO_STATUS_PATH, twilioStatusCallback, type TwilioStatusOptions } from './twilio.js';
import {
  createUser,
  deleteUser,
  findUser,
  getPreferences,
  putPreferences,
  updateUser,
  userView,
} from '../domain/users.js';
import { addPushSubscription, removePushSubscription } from '../domain/push-targets.js';
import { cancelSignal } from '../workflows/definitions.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { checkContactUrls, checkedPushSubscription, parse } from './validate.js';
import { createOutboundPolicy, type OutboundPolicy } from '../platform/outbound.js';
import { webhookRoutes } from './webhooks.js';
import { addPushDeviceRoutes } from './push-devices.js';
import type { InboxHub } from './inbox/hub.js';
import { inboxRoutes, inboxTokenIssuer, type InboxOptions } from './inbox/routes.js';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  apiKeys: readonly string[];
  /** The VAPID public key browsers subscribe with; push is off without it. */
  vapidPublicKey?: string;
  /** Unknown API keys each client address may try before 429 (src/api/auth.ts); a default when unset. */
  unknownKeyLimit?: UnknownKeyLimit;
  /** Token bucket per API key (per process); unset means no rate limit. */
  rateLimit?: { perSecond: number; burst: number };
  /** The bot's settings: link tokens, and the webhook route when TELEGRAM_WEBHOOK_SECRET is set. */
  telegram?: Config['telegram'];
  /** The codec server for the Temporal UI and CLI (/codec); off when unset. */
  codecServer?: CodecServerOptions;
  /** The preference page and one-click unsubscribe (/preferences, /unsubscribe); off when unset. */
  preferenceCenter?: PreferenceCenterOptions;
  /** Where user-supplied URLs may point (OUTBOUND_ALLOWED_HOSTS); unset: no private address at all. */
  outbound?: OutboundPolicy;
  /** Twilio's signed status callbacks (delivery receipts); off when unset. */
  twilioStatus?: TwilioStatusOptions;
  /** The in-app inbox (/inbox), with this process's streams; off when unset. */
  inbox?: InboxOptions & { hub: InboxHub };
  /** Default priorities of single notifications by category (CATEGORY_PRIORITIES); none when unset. */
  categoryPriorities?: CategoryPriorities;
}

const READINESS_DEADLINE_MS = 2_000;

const param = (req: Request, name: string): string => parse(userIdParamSchema, req.params[name], name);

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

export function createApp(deps: ApiDeps): express.Express {
  const { db, temporal, logger } = deps;
  const outbound = deps.outbound ?? createOutboundPolicy();
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // First: the request's span is active for everything after it, its log line included.
  app.use(traceRequests);
  app.use(requestContext(logger));
  app.use(observeRequests);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // No /metrics here: Prometheus scrapes the API's own metrics listener (API_METRICS_PORT, src/api/main.ts).
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.all([
      pingDatabase(db).then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      ),
      // A probe answers quickly: the client would otherwise retry an unreachable server for ~20 s.
      temporal.connection
        .withDeadline(Date.now() + READINESS_DEADLINE_MS, () => temporal.workflowService.getSystemInfo({}))
        .then(
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
  app.use(methodNotAllowed(spec));
  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  app.use(apiDocsRoutes());

  // The codec server has its own token (operators, not services) and CORS for the Temporal UI.
  if (deps.codecServer) app.use(CODEC_PATH, codecRoutes(deps.codecServer));

  // People, not services: the preference center authenticates with signed links, not API keys.
  if (deps.preferenceCenter)
    app.use(preferenceCenterRoutes({ db, temporal, logger, outbound, ...deps.preferenceCenter }));

  // End users, not services: the inbox authenticates with tokens a service asked for on their behalf.
  if (deps.inbox) app.use(inboxRoutes({ db, temporal, logger, ...deps.inbox }));

  // Telegram authenticates with its secret header, not an API key.
  if (deps.telegram?.webhookSecret)
    app.post(TELEGRAM_WEBHOOK_PATH, ...telegramWebhook(db, deps.telegram.webhookSecret));

  // Twilio signs its status callbacks with the auth token instead.
  if (deps.twilioStatus) app.post(TWILIO_STATUS_PATH, ...twilioStatusCallback(db, logger, deps.twilioStatus));

  const v1 = express.Router();
  v1.use(requireApiKey(db, deps.apiKeys, deps.unknownKeyLimit));
  const limiter = deps.rateLimit && rateLimitPerKey(deps.rateLimit);
  if (limiter) v1.use(limiter);
  v1.use(requireJson);
  // A bulk send lists up to 10,000 recipients: its body may be larger than any other (the next parser skips it).
  v1.use('/notifications/bulk', express.json({ limit: BULK_BODY_LIMIT, strict: true }));
  v1.use(express.json({ limit: BODY_LIMIT, strict: true }));
  // Scopes (docs/security.md): checked before a route reads its input, so a refusal changes nothing.
  const manage = requireScope('manage');
  const send = requireScope('send');
  const read = requireScope('send', 'manage');

  v1.post('/users', manage, async (req, res) => {
    const { fields, contacts } = splitContacts(parse(createUserSchema, req.body));
    checkContactUrls(outbound, contacts);
    const user = await createUser(db, { ...fields, contacts });
    res.status(201).location(`/v1/users/${user.id}`).json(userView(user));
  });
  v1.get('/users/:id', manage, async (req, res) => {
    res.json(userView(await findUser(db, param(req, 'id'))));
  });
  v1.patch('/users/:id', manage, async (req, res) => {
    const { fields, contacts } = splitContacts(parse(updateUserSchema, req.body));
    checkContactUrls(outbound, contacts);
    res.json(userView(await updateUser(db, param(req, 'id'), { ...fields, contacts })));
  });
  v1.delete('/users/:id', manage, async (req, res) => {
    const { open } = await deleteUser(db, param(req, 'id'));
    // Open notifications would find nothing to deliver anyway; cancelling them says why, at once.
    await Promise.allSettled(
      open.map((workflowId) =>
        temporal.workflow.getHandle(workflowId).signal(cancelSignal, { reason: 'the user was deleted' }),
      ),
    );
    res.status(204).end();
  });
  v1.get('/users/:id/preferences', manage, async (req, res) => {
    res.json(await getPreferences(db, param(req, 'id')));
  });
  v1.put('/users/:id/preferences', manage, async (req, res) => {
    res.json(await putPreferences(db, param(req, 'id'), parse(preferencesSchema, req.body)));
  });
  v1.post('/users/:id/push-subscriptions', manage, async (req, res) => {
    const { created, subscription } = await addPushSubscription(
      db,
      param(req, 'id'),
      checkedPushSubscription(outbound, req.body),
    );
    res.status(created ? 201 : 200).json(subscription);
  });
  v1.delete('/users/:id/push-subscriptions/:subscriptionId', manage, async (req, res) => {
    await removePushSubscription(
      db,
      param(req, 'id'),
      parse(subscriptionIdSchema, req.params.subscriptionId, 'subscriptionId'),
    );
    res.status(204).end();
  });
  addPushDeviceRoutes(v1, db, manage);
  const issueTelegramLink = telegramLinkIssuer(db, deps.telegram);
  v1.post('/users/:id/telegram-link', manage, async (req, res) => {
    res.status(201).json(await issueTelegramLink(param(req, 'id')));
  });
  const issuePreferencesLink = preferencesLinkIssuer(db, deps.preferenceCenter);
  v1.post('/users/:id/preferences-link', manage, async (req, res) => {
    res.status(201).json(await issuePreferencesLink(param(req, 'id')));
  });
  v1.post('/users/:id/links/revoke', manage, async (req, res) => {
    res.json(await revokeLinks(db, param(req, 'id')));
  });
  const inboxTokens = inboxTokenIssuer(db, deps.inbox);
  v1.post('/users/:id/inbox-token', manage, async (req, res) => {
    res.status(201).json(await inboxTokens.issue(param(req, 'id')));
  });
  v1.delete('/users/:id/inbox-token', manage, async (req, res) => {
    await inboxTokens.revoke(param(req, 'id'));
    res.status(204).end();
  });
  v1.get('/push/vapid-public-key', (_req, res) => {
    if (!deps.vapidPublicKey) throw problems.notFound('Web Push is not configured: the VAPID key');
    res.json({ publicKey: deps.vapidPublicKey });
  });

  v1.post('/notifications', send, async (req, res) => {
    const input = parse(createNotificationSchema, req.body);
    const rawKey = req.header('idempotency-key');
    const idempotencyKey =
      rawKey === undefined ? undefined : parse(idempotencyKeySchema, rawKey, 'Idempotency-Key');
    const accepted = await acceptNotification(
      {
        db,
        temporal,
        logger,
        requestId: req.id,
        idempotencyKey,
        source: req.caller?.keyId,
        categoryPriorities: deps.categoryPriorities,
      },
      input,
    );
    res
      .status(202)
      .location(`/v1/notifications/${accepted.id}`)
      .json({ id: accepted.id, status: accepted.status, workflowId: accepted.workflowId });
  });
  v1.get('/notifications', read, async (req, res) => {
    const query = parse(listNotificationsQuerySchema, req.query, '(query)');
    res.json(await listNotifications(db, query, { source: readReach(req).source }));
  });
  v1.post('/notifications/bulk', send, async (req, res) => {
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
  v1.get('/notifications/:id', read, async (req, res) => {
    res.json(await getNotification(db, parse(notificationIdSchema, req.params.id, 'id'), readReach(req)));
  });
  v1.post('/notifications/:id/cancel', send, async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    const { reason } = parse(cancelNotificationSchema, req.body ?? {});
    res.json(await actOnNotification(db, temporal, id, { kind: 'cancel', reason }, actReach(req)));
  });
  v1.post('/notifications/:id/retry', send, async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    res.status(202).json(await actOnNotification(db, temporal, id, { kind: 'retry' }, actReach(req)));
  });

  v1.put('/templates/:key/:locale', manage, async (req, res) => {
    const key = parse(templateKeySchema, req.params.key, 'key');
    const locale = parse(localeSchema, req.params.locale, 'locale');
    const { created, template } = await putTemplate(db, key, locale, parse(putTemplateSchema, req.body));
    res.status(created ? 201 : 200).json(template);
  });
  v1.get('/templates/:key', manage, async (req, res) => {
    res.json(await getTemplate(db, parse(templateKeySchema, req.params.key, 'key')));
  });
  v1.delete('/templates/:key/:locale', manage, async (req, res) => {
    await deleteTemplate(
      db,
      parse(templateKeySchema, req.params.key, 'key'),
      parse(localeSchema, req.params.locale, 'locale'),
    );
    res.status(204).end();
  });

  // A key's webhooks hear about the notifications it sends: send manages its own, admin any key's.
  v1.use('/webhooks', send, webhookRoutes(db, outbound));

  app.use('/v1', v1);
  app.use((req, _res) => {
    throw new HttpProblem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(logger));
  return app;
}
