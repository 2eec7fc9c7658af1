// One-click unsubscribe (RFC 8058): the URL in an email's List-Unsubscribe header. A mail provider POSTs
// `List-Unsubscribe=One-Click` to it with no login; a person who opens it gets a page that asks first
// (link scanners follow GETs, so a GET changes nothing). Either way the user stops getting that
// category by email, and the opt-out is recorded in unsubscribe_events.
import express, { type Request, type Response } from 'express';
import { BODY_LIMIT } from './credentials.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { UNSUBSCRIBE_PATH, type PreferenceLinks } from '../domain/preference-links.js';
import { currentLinkHolder } from '../domain/link-revocation.js';
import { html, sendPage, sendRefusal } from './preference-center-pages.js';

export interface UnsubscribeDeps {
  db: Db;
  logger: Logger;
  links: PreferenceLinks;
  mandatoryCategories: readonly string[];
}

/** The confirmation page's form sends this; anything else POSTed is a mail provider's one-click. */
const FROM_PAGE = 'page';

export function unsubscribeRoutes({
  db,
  logger,
  links,
  mandatoryCategories,
}: UnsubscribeDeps): express.Router {
  const router = express.Router();

  /** The link's user and category, or a refusal page sent (altered or revoked link, or user gone). */
  async function resolve(req: Request, res: Response) {
    const verified = links.verifyUnsubscribe(String(req.params.token));
    if (!verified.valid) return void sendRefusal(res, 'invalid');
    const holder = await currentLinkHolder(db, verified);
    if (typeof holder === 'string') return void sendRefusal(res, holder === 'gone' ? 'gone' : 'invalid');
    return verified;
  }
  const alwaysSent = (res: Response, category: string) =>
    sendPage(
      res,
      200,
      `“${category}” emails cannot be turned off`,
      html`<p>They carry notices about your account that you need to receive, so they are always sent.</p>`,
    );

  router.get(`${UNSUBSCRIBE_PATH}/:token`, async (req, res) => {
    const link = await resolve(req, res);
    if (!link) return;
    if (mandatoryCategories.includes(link.category)) return alwaysSent(res, link.category);
    sendPage(
      res,
      200,
      `Unsubscribe from “${link.category}” emails?`,
      html`<p>
          You will stop getting “${link.category}” notifications by email. Your other notifications are not
          affected.
        </p>
        <form method="post" action="${req.originalUrl}">
          <input type="hidden" name="via" value="${FROM_PAGE}" />
          <button type="submit">Unsubscribe</button>
        </form>`,
    );
  });

  // Mail providers send application/x-www-form-urlencoded; a body of another type is not needed.
  router.post(
    `${UNSUBSCRIBE_PATH}/:token`,
    express.urlencoded({ extended: false, limit: BODY_LIMIT }),
    async (req, res) => {
      const link = await resolve(req, res);
      if (!link) return;
      if (mandatoryCategories.includes(link.category)) return alwaysSent(res, link.category);
      const method =
        (req.body as Record<string, unknown> | undefined)?.via === FROM_PAGE ? 'page' : 'one_click';
      const rule = { userId: link.userId, category: link.category, channel: 'email' };
      await db.$transaction([
        db.preference.upsert({
          where: { userId_category_channel: rule },
          create: { ...rule, enabled: false },
          update: { enabled: false },
        }),
        db.unsubscribeEvent.create({
          data: {
            userId: link.userId,
            category: link.category,
            channel: 'email',
            method,
            notificationId: link.notificationId ?? null,
            userAgent: req.header('user-agent')?.slice(0, 512) ?? null,
          },
        }),
      ]);
      logger.info(
        { requestId: req.id, userId: link.userId, category: link.category, method },
        'unsubscribed from a category on email',
      );
      sendPage(
        res,
        200,
        'You are unsubscribed',
        html`<p>
          You will no longer get “${link.category}” notifications by email. Your other notifications are not
          affected. To change more, use “Manage your notifications” at the bottom of any email from us.
        </p>`,
      );
    },
  );
  return router;
}
