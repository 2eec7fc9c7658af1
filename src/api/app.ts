import express from 'express';
import { BODY_LIMIT, requireJson } from './credentials.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config.js';
import { pingDatabase, type Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { observeRequests } from '../platform/metrics.js';
import { requireApiKey, requireScope, type UnknownKeyLimit } from './auth.js';
import { BULK_BODY_LIMIT } from './bulk.js';
import type { CategoryPriorities } from '../workflows/priority.js';
import { CODEC_PATH, codecRoutes, type CodecServerOptions } from './codec.js';
import { rateLimitPerKey } from './rate-limit.js';
import { topicRoutes } from './topics.js';
import { openApiDocument } from './openapi.js';
import { apiDocsRoutes } from './api-docs.js';
import { preferenceCenterRoutes, type PreferenceCenterOptions } from './preference-center.js';
import { HttpProblem, problemHandler } from './problem.js';
import { requestContext } from './request-context.js';
import { traceRequests } from './request-tracing.js';
import { TELEGRAM_WEBHOOK_PATH, telegramWebhook } from './telegram.js';
import { TWILIO_STATUS_PATH, twilioStatusCallback, type TwilioStatusOptions } from './twilio.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { createOutboundPolicy, type OutboundPolicy } from '../platform/outbound.js';
import { webhookRoutes } from './webhooks.js';
import { flowRoutes } from './flows.js';
import type { InboxHub } from './inbox/hub.js';
import { acknowledgeRoutes } from './acknowledge.js';
import { inboxRoutes, type InboxOptions } from './inbox/routes.js';
import { userRoutes } from './users.js';
import { notificationRoutes } from './notifications.js';
import { templateRoutes } from './templates.js';

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
  if (deps.preferenceCenter) {
    app.use(preferenceCenterRoutes({ db, temporal, logger, outbound, ...deps.preferenceCenter }));
    // Acknowledge links, signed with the same secret: the link is the credential.
    app.use(acknowledgeRoutes({ db, temporal, logger, links: deps.preferenceCenter.acknowledgementLinks }));
  }

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

  v1.use(
    userRoutes({
      db,
      temporal,
      outbound,
      vapidPublicKey: deps.vapidPublicKey,
      telegram: deps.telegram,
      preferenceCenter: deps.preferenceCenter,
      inbox: deps.inbox,
      manage,
    }),
  );
  v1.use(
    notificationRoutes({
      db,
      temporal,
      logger,
      categoryPriorities: deps.categoryPriorities,
      limiter,
      send,
      read,
    }),
  );
  v1.use(templateRoutes(db, manage));
  v1.use(topicRoutes(db, manage));

  // A key's webhooks hear about the notifications it sends: send manages its own, admin any key's.
  v1.use('/webhooks', send, webhookRoutes(db, outbound));
  v1.use('/flows', manage, flowRoutes(db));

  app.use('/v1', v1);
  app.use((req, _res) => {
    throw new HttpProblem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(logger));
  return app;
}
