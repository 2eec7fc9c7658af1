// The page behind an acknowledge link (email, push, chat messages, SMS): a GET shows what is to be
// acknowledged and a button, since mail scanners and link previews follow GETs; the button's POST records
// the acknowledgement and tells the notification's workflow. The signed link is the only credential.
import type { Client } from '@temporalio/client';
import express, { type Request, type Response } from 'express';
import {
  ACKNOWLEDGE_LABEL,
  ACKNOWLEDGE_PATH,
  type AcknowledgementLinks,
} from '../domain/acknowledgement-links.js';
import { acknowledge } from '../domain/acknowledgements.js';
import { currentLinkHolder } from '../domain/link-revocation.js';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/db.js';
import { findAcknowledgeable } from '../store/acknowledgements.js';
import { html, sendPage, sendRefusal } from './preference-center-pages.js';

export interface AcknowledgeRouteDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  links: AcknowledgementLinks;
}

const acknowledgedText = (at: Date) =>
  html`<p>It was acknowledged on ${at.toISOString().replace('T', ' ').slice(0, 16)} UTC. Thank you.</p>`;

export function acknowledgeRoutes({ db, temporal, logger, links }: AcknowledgeRouteDeps): express.Router {
  const router = express.Router();

  /** The link's delivery and user, or a refusal page sent (altered, expired, revoked, or gone). */
  async function resolve(req: Request, res: Response) {
    const verified = links.verifyLink(String(req.params.token));
    if (!verified.valid) return void sendRefusal(res, verified.reason);
    const holder = await currentLinkHolder(db, verified);
    if (typeof holder === 'string') return void sendRefusal(res, holder === 'gone' ? 'gone' : 'invalid');
    const target = await findAcknowledgeable(db, verified.deliveryId, verified.userId);
    if (!target) return void sendRefusal(res, 'gone');
    return { ...verified, ...target };
  }

  router.get(`${ACKNOWLEDGE_PATH}/:token`, async (req, res) => {
    const link = await resolve(req, res);
    if (!link) return;
    const what = link.title ?? `your “${link.category}” notification`;
    if (link.acknowledgedAt)
      return sendPage(res, 200, 'Already acknowledged', acknowledgedText(link.acknowledgedAt));
    sendPage(
      res,
      200,
      `${ACKNOWLEDGE_LABEL}: ${what}`,
      html`<p>Confirm that you have seen “${what}”. The sender is told that you acknowledged it.</p>
        <form method="post" action="${req.originalUrl}">
          <button type="submit">${ACKNOWLEDGE_LABEL}</button>
        </form>`,
    );
  });

  // The form posts an empty body: the link itself is the request.
  router.post(`${ACKNOWLEDGE_PATH}/:token`, async (req, res) => {
    const link = await resolve(req, res);
    if (!link) return;
    const recorded = await acknowledge(
      { db, temporal, logger },
      { via: 'link', deliveryId: link.deliveryId, userId: link.userId },
    );
    if (!recorded) return sendRefusal(res, 'gone');
    logger.info(
      { requestId: req.id, deliveryId: recorded.deliveryId, first: recorded.becameAcknowledged },
      'notification acknowledged by link',
    );
    sendPage(res, 200, 'Acknowledged', acknowledgedText(recorded.acknowledgedAt));
  });
  return router;
}
