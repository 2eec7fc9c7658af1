// Users over HTTP: /v1/users/... (the user, their preferences, push subscriptions and devices, telegram
// and preference-center links, link revocation, the inbox token) and the VAPID key browsers subscribe with.
import { Router, type Request, type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config.js';
import type { OutboundPolicy } from '../platform/outbound.js';
import type { Db } from '../store/db.js';
import {
  createUserSchema,
  preferencesSchema,
  splitContacts,
  subscriptionIdSchema,
  updateUserSchema,
  userIdParamSchema,
} from '../domain/schemas.js';
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
import { revokeLinks } from '../domain/link-revocation.js';
import { cancelSignal } from '../workflows/definitions.js';
import { preferencesLinkIssuer, type PreferenceCenterOptions } from './preference-center.js';
import { telegramLinkIssuer } from './telegram.js';
import { inboxTokenIssuer, type InboxOptions } from './inbox/routes.js';
import { addPushDeviceRoutes } from './push-devices.js';
import { problems } from './problem.js';
import { checkContactUrls, checkedPushSubscription, parse } from './validate.js';

export interface UserRoutesDeps {
  db: Db;
  temporal: Client;
  outbound: OutboundPolicy;
  /** The VAPID public key browsers subscribe with; push is off without it. */
  vapidPublicKey?: string;
  /** Telegram link tokens; the link route answers 404 when unset. */
  telegram?: Config['telegram'];
  /** Preference-center links; the link route answers 404 when unset. */
  preferenceCenter?: PreferenceCenterOptions;
  /** Inbox tokens; the token routes answer 404 when unset. */
  inbox?: InboxOptions;
  /** The scope every /users route needs (users and preferences are the `manage` scope's). */
  manage: RequestHandler;
}

const param = (req: Request, name: string): string => parse(userIdParamSchema, req.params[name], name);

/**
 * Full paths on a router mounted on /v1 without a mount path, as topicRoutes: a mount path's parameters
 * would put the raw user id in the logged route pattern.
 */
export function userRoutes(deps: UserRoutesDeps): Router {
  const { db, temporal, outbound, manage } = deps;
  const router = Router();
  router.post('/users', manage, async (req, res) => {
    const { fields, contacts } = splitContacts(parse(createUserSchema, req.body));
    checkContactUrls(outbound, contacts);
    const user = await createUser(db, { ...fields, contacts });
    res.status(201).location(`/v1/users/${user.id}`).json(userView(user));
  });
  router.get('/users/:id', manage, async (req, res) => {
    res.json(userView(await findUser(db, param(req, 'id'))));
  });
  router.patch('/users/:id', manage, async (req, res) => {
    const { fields, contacts } = splitContacts(parse(updateUserSchema, req.body));
    checkContactUrls(outbound, contacts);
    res.json(userView(await updateUser(db, param(req, 'id'), { ...fields, contacts })));
  });
  router.delete('/users/:id', manage, async (req, res) => {
    const { open } = await deleteUser(db, param(req, 'id'));
    // Open notifications would find nothing to deliver anyway; cancelling them says why, at once.
    await Promise.allSettled(
      open.map((workflowId) =>
        temporal.workflow.getHandle(workflowId).signal(cancelSignal, { reason: 'the user was deleted' }),
      ),
    );
    res.status(204).end();
  });
  router.get('/users/:id/preferences', manage, async (req, res) => {
    res.json(await getPreferences(db, param(req, 'id')));
  });
  router.put('/users/:id/preferences', manage, async (req, res) => {
    res.json(await putPreferences(db, param(req, 'id'), parse(preferencesSchema, req.body)));
  });
  router.post('/users/:id/push-subscriptions', manage, async (req, res) => {
    const { created, subscription } = await addPushSubscription(
      db,
      param(req, 'id'),
      checkedPushSubscription(outbound, req.body),
    );
    res.status(created ? 201 : 200).json(subscription);
  });
  router.delete('/users/:id/push-subscriptions/:subscriptionId', manage, async (req, res) => {
    await removePushSubscription(
      db,
      param(req, 'id'),
      parse(subscriptionIdSchema, req.params.subscriptionId, 'subscriptionId'),
    );
    res.status(204).end();
  });
  addPushDeviceRoutes(router, db, manage);
  const issueTelegramLink = telegramLinkIssuer(db, deps.telegram);
  router.post('/users/:id/telegram-link', manage, async (req, res) => {
    res.status(201).json(await issueTelegramLink(param(req, 'id')));
  });
  const issuePreferencesLink = preferencesLinkIssuer(db, deps.preferenceCenter);
  router.post('/users/:id/preferences-link', manage, async (req, res) => {
    res.status(201).json(await issuePreferencesLink(param(req, 'id')));
  });
  router.post('/users/:id/links/revoke', manage, async (req, res) => {
    res.json(await revokeLinks(db, param(req, 'id')));
  });
  const inboxTokens = inboxTokenIssuer(db, deps.inbox);
  router.post('/users/:id/inbox-token', manage, async (req, res) => {
    res.status(201).json(await inboxTokens.issue(param(req, 'id')));
  });
  router.delete('/users/:id/inbox-token', manage, async (req, res) => {
    await inboxTokens.revoke(param(req, 'id'));
    res.status(204).end();
  });
  // No scope: any key may read it (docs/security.md).
  router.get('/push/vapid-public-key', (_req, res) => {
    if (!deps.vapidPublicKey) throw problems.notFound('Web Push is not configured: the VAPID key');
    res.json({ publicKey: deps.vapidPublicKey });
  });
  return router;
}
