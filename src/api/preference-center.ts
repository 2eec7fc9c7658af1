// The preference center: a page per user behind a signed, expiring link (no login, no API key), and the
// JSON endpoints its script calls with that link's token as a bearer token. People choose channels and
// categories, quiet hours and their time zone, subscribe this browser to Web Push, and send a test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import express, { type RequestHandler, type Response } from 'express';
import { BODY_LIMIT, bearerToken } from './credentials.js';
import { z } from 'zod';
import { configuredChannels } from '../activities/channels/registry.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import {
  PREFERENCES_PATH,
  preferenceLinksFromConfig,
  type PreferenceLinks,
} from '../domain/preference-links.js';
import type { ChannelName } from '../workflows/definitions.js';
import { acceptNotification, getNotification } from '../domain/notifications.js';
import { currentLinkHolder } from '../domain/link-revocation.js';
import {
  acknowledgementLinksFromConfig,
  type AcknowledgementLinks,
} from '../domain/acknowledgement-links.js';
import { TEST_CATEGORY, pageState } from './preference-center-state.js';
import {
  ASSETS_DIR,
  ASSETS_PATH,
  sendRefusal,
  setPageHeaders,
  type Refusal,
} from './preference-center-pages.js';
import { HttpProblem, problems } from './problem.js';
import { rateLimitPerKey } from './rate-limit.js';
import { responseSchemas } from '../domain/views.js';
import {
  notificationIdSchema,
  preferencesSchema,
  subscriptionIdSchema,
  timeZoneSchema,
} from '../domain/schemas.js';
import { findUser, putPreferences, updateUser } from '../domain/users.js';
import { addPushSubscription, removePushSubscription } from '../domain/push-targets.js';
import { unsubscribeRoutes } from './unsubscribe.js';
import { checkedPushSubscription, parse } from './validate.js';
import type { OutboundPolicy } from '../platform/outbound.js';

export const PREFERENCES_API_PATH = `${PREFERENCES_PATH}/api`;
/** "Send me a test": three at once, then one a minute, per user (per API process). */
export const TEST_RATE_LIMIT = { perSecond: 1 / 60, burst: 3 };

export interface PreferenceCenterOptions {
  links: PreferenceLinks;
  /** Acknowledge links (/ack), signed with the same secret. */
  acknowledgementLinks: AcknowledgementLinks;
  /** Channels with a provider in this deployment; the page offers only these. */
  configuredChannels: readonly ChannelName[];
  /** Always delivered (MANDATORY_CATEGORIES): shown, but cannot be switched off. */
  mandatoryCategories: readonly string[];
  /** PREFERENCE_CATEGORIES: offered even before the user has a notification in them. */
  categories: readonly string[];
  /** Browsers subscribe with it; the page offers no Web Push without it. */
  vapidPublicKey?: string;
}

/** The preference center's settings, or undefined when it is off (no PREFERENCES_SECRET). */
export function preferenceCenterOptions(config: Config): PreferenceCenterOptions | undefined {
  const links = preferenceLinksFromConfig(config);
  const acknowledgementLinks = acknowledgementLinksFromConfig(config);
  if (!links || !acknowledgementLinks) return undefined;
  return {
    links,
    acknowledgementLinks,
    configuredChannels: configuredChannels(config),
    mandatoryCategories: config.delivery.mandatoryCategories,
    categories: config.preferences.categories,
    vapidPublicKey: config.vapid.publicKey,
  };
}

export const preferencesLinkResponse = z
  .object({ userId: z.uuid(), url: z.url(), expiresAt: z.iso.datetime() })
  .register(responseSchemas, { id: 'PreferencesLink' });

export const linksRevokedResponse = z
  .object({
    userId: z.uuid(),
    /** The version links issued from now on carry; every link with an older one is refused. */
    linkVersion: z.int().min(1),
  })
  .register(responseSchemas, { id: 'LinksRevoked' });

/** What the page saves: the rules and quiet hours, as PUT /v1/users/:id/preferences takes them, and the time zone. */
export const preferenceCenterUpdateSchema = preferencesSchema.extend({
  /** The user's own time zone; quiet hours without a zone of their own follow it. */
  timezone: timeZoneSchema.optional(),
});

/** POST /v1/users/:id/preferences-link: the page link for a user, to show or send them. */
export function preferencesLinkIssuer(db: Db, options: PreferenceCenterOptions | undefined) {
  return async (idOrExternalId: string): Promise<z.infer<typeof preferencesLinkResponse>> => {
    if (!options) throw problems.notFound('The preference center (set PREFERENCES_SECRET)');
    const user = await findUser(db, idOrExternalId);
    const { url, expiresAt } = options.links.pageLink(user);
    return { userId: user.id, url, expiresAt: expiresAt.toISOString() };
  };
}

const LINK_PROBLEMS: Record<Refusal, () => HttpProblem> = {
  invalid: () => new HttpProblem(403, 'link-invalid', 'Forbidden', 'The link is not valid: it was altered'),
  expired: () => new HttpProblem(410, 'link-expired', 'Gone', 'The link has expired: ask for a new one'),
  gone: () => problems.notFound('The user of this link'),
};

export interface PreferenceCenterDeps extends PreferenceCenterOptions {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** Where push endpoints may point (OUTBOUND_ALLOWED_HOSTS). */
  outbound: OutboundPolicy;
}

interface PageCaller {
  userId: string;
  expiresAt: Date;
}
const callerOf = (res: Response): PageCaller => res.locals.pageCaller as PageCaller;

export function preferenceCenterRoutes(deps: PreferenceCenterDeps): express.Router {
  const { db, temporal, logger, links } = deps;
  const indexHtml = readFileSync(path.join(ASSETS_DIR, 'index.html'), 'utf8');
  const router = express.Router();

  router.use(
    ASSETS_PATH,
    express.static(ASSETS_DIR, {
      index: false,
      maxAge: '1h',
      setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
    }),
  );
  // At /preferences/ rather than under assets/, so that its scope covers the page.
  router.get(`${PREFERENCES_PATH}/sw.js`, (_req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(ASSETS_DIR, 'sw.js'));
  });

  /** The link's user, or why the link is refused; a revoked link is refused as an invalid one. */
  async function check(token: string, now = new Date()): Promise<PageCaller | Refusal> {
    const verified = links.verifyPage(token, now);
    if (!verified.valid) return verified.reason;
    const holder = await currentLinkHolder(db, verified);
    if (holder === 'revoked') return 'invalid';
    return holder === 'gone' ? holder : { userId: holder.id, expiresAt: verified.expiresAt };
  }

  router.get(`${PREFERENCES_PATH}/:token`, async (req, res) => {
    const caller = await check(String(req.params.token));
    if (typeof caller === 'string') return sendRefusal(res, caller);
    setPageHeaders(res);
    res.type('html').send(indexHtml);
  });

  const authenticate: RequestHandler = async (req, res, next) => {
    const token = bearerToken(req);
    if (!token)
      throw new HttpProblem(
        401,
        'unauthorized',
        'Unauthorized',
        "Send the page link's token as `Authorization: Bearer <token>`",
        undefined,
        { 'WWW-Authenticate': 'Bearer' },
      );
    const caller = await check(token);
    if (typeof caller === 'string') throw LINK_PROBLEMS[caller]();
    res.locals.pageCaller = caller;
    // The caller the request log names, and the key the test's rate limit counts by.
    req.caller = { keyId: `preferences:${caller.userId}`, name: 'preference page' };
    next();
  };
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding');
    if (hasBody && !req.is('application/json'))
      throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'Send application/json');
    next();
  };

  const api = express.Router();
  // Refused links are refused before their body is read.
  api.use(authenticate, requireJson, express.json({ limit: BODY_LIMIT, strict: true }));

  api.get('/state', async (_req, res) => {
    const caller = callerOf(res);
    res.json(await pageState(db, deps, caller.userId, caller.expiresAt));
  });
  api.put('/preferences', async (req, res) => {
    const caller = callerOf(res);
    const { timezone, ...preferences } = parse(preferenceCenterUpdateSchema, req.body);
    if (timezone) await updateUser(db, caller.userId, { timezone });
    await putPreferences(db, caller.userId, preferences);
    logger.info({ requestId: req.id, userId: caller.userId }, 'preferences saved on the preference page');
    res.json(await pageState(db, deps, caller.userId, caller.expiresAt));
  });
  api.post('/push-subscriptions', async (req, res) => {
    if (!deps.vapidPublicKey) throw problems.notFound('Web Push (no VAPID key)');
    const input = checkedPushSubscription(deps.outbound, req.body);
    const { created, subscription } = await addPushSubscription(db, callerOf(res).userId, input);
    res.status(created ? 201 : 200).json(subscription);
  });
  api.delete('/push-subscriptions/:subscriptionId', async (req, res) => {
    const id = parse(subscriptionIdSchema, req.params.subscriptionId, 'subscriptionId');
    await removePushSubscription(db, callerOf(res).userId, id);
    res.status(204).end();
  });
  api.post('/test', rateLimitPerKey(TEST_RATE_LIMIT), async (req, res) => {
    const { userId } = callerOf(res);
    const accepted = await acceptNotification(
      { db, temporal, logger, requestId: req.id, source: 'preference-center' },
      {
        userId,
        category: TEST_CATEGORY,
        title: 'Test notification',
        body: 'You asked for this test on your notification settings page. If you can read it, this channel works.',
      },
    );
    res.status(202).json({ id: accepted.id, status: accepted.status, workflowId: accepted.workflowId });
  });
  api.get('/notifications/:id', async (req, res) => {
    const id = parse(notificationIdSchema, req.params.id, 'id');
    const view = await getNotification(db, id);
    // Another user's notification is as good as missing.
    if (view.userId !== callerOf(res).userId) throw problems.notFound(`Notification ${id}`);
    res.json(view);
  });

  router.use(PREFERENCES_API_PATH, api);
  router.use(unsubscribeRoutes({ db, logger, links, mandatoryCategories: deps.mandatoryCategories }));
  return router;
}
