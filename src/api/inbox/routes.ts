// The in-app inbox for end users, under /inbox/v1: the feed, the badge's counts, marking messages, and
// a Server-Sent Events stream. A page authenticates with an inbox token its backend got from
// POST /v1/users/:id/inbox-token (never an API key), and may be on another origin (INBOX_CORS_ORIGINS).
// Also the web component, <herald-inbox>, at /inbox/herald-inbox.js.
import { readFileSync } from 'node:fs';
import express, { type RequestHandler, type Response } from 'express';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/logger.js';
import type { Db } from '../../store/db.js';
import type { Client } from '@temporalio/client';
import {
  inboxBadge,
  inboxFeedQuerySchema,
  inboxMessageIdSchema,
  inboxPage,
  inboxReadSchema,
  markAllRead,
  acknowledgeMessage,
  markMessage,
} from '../../domain/inbox.js';
import { createInboxTokens, type InboxTokenRefusal, type InboxTokens } from '../../domain/inbox-tokens.js';
import type { InboxMark } from '../../store/inbox-marks.js';
import { cors, preflight } from '../cors.js';
import { BODY_LIMIT, bearerToken, requireJson } from '../credentials.js';
import { HttpProblem, problems } from '../problem.js';
import { rateLimitPerKey } from '../rate-limit.js';
import { parse } from '../validate.js';
import type { InboxHub } from './hub.js';
import { openStream, streamQuerySchema } from './stream.js';

export const INBOX_PATH = '/inbox';
export const INBOX_API_PATH = `${INBOX_PATH}/v1`;
export const COMPONENT_PATH = `${INBOX_PATH}/herald-inbox.js`;

/**
 * <herald-inbox> as one classic script: its styles, its connection and the element, from the files of
 * component/ (plain CSS and JavaScript, no build step), in one scope that leaks nothing to the page.
 */
export function componentScript(): string {
  const file = (name: string) => readFileSync(new URL(`./component/${name}`, import.meta.url), 'utf8');
  return [
    '(() => {',
    `const HERALD_INBOX_CSS = ${JSON.stringify(file('herald-inbox.css'))};`,
    file('inbox-connection.js'),
    file('herald-inbox.js'),
    '})();',
  ].join('\n');
}
/** Requests one user's pages may make a second, per API process, after a burst (the page opening). */
export const INBOX_RATE_LIMIT = { perSecond: 10, burst: 60 };

export interface InboxOptions {
  tokens: InboxTokens;
  corsOrigins: readonly string[];
}

/** The inbox's settings, or undefined when it is off (no INBOX_SECRET). */
export function inboxOptions(config: Pick<Config, 'inbox'>): InboxOptions | undefined {
  const { secret, tokenTtlMs, corsOrigins } = config.inbox;
  return secret ? { tokens: createInboxTokens({ secret, ttlMs: tokenTtlMs }), corsOrigins } : undefined;
}

export interface InboxDeps extends InboxOptions {
  db: Db;
  temporal: Client;
  logger: Logger;
  hub: InboxHub;
}

const REFUSALS: Record<InboxTokenRefusal | 'missing', [type: string, detail: string]> = {
  missing: ['unauthorized', 'Send an inbox token as `Authorization: Bearer <token>`'],
  invalid: ['token-invalid', 'The inbox token is not valid: altered, forged or not an inbox token'],
  expired: ['token-expired', 'The inbox token has expired: ask your backend for a new one'],
  revoked: ['token-revoked', "The user's inbox tokens were revoked: ask your backend for a new one"],
};
const refused = (why: keyof typeof REFUSALS) =>
  new HttpProblem(401, REFUSALS[why][0], 'Unauthorized', REFUSALS[why][1], undefined, {
    'WWW-Authenticate': 'Bearer',
  });

export interface InboxCaller {
  userId: string;
  expiresAt: Date;
}
export const inboxCallerOf = (res: Response): InboxCaller => res.locals.inboxCaller as InboxCaller;

export function inboxRoutes(deps: InboxDeps): express.Router {
  const { db, tokens } = deps;
  const router = express.Router();

  const script = componentScript();
  router.get(COMPONENT_PATH, (_req, res) => {
    // A public script any site may load, as a classic or a module script.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('text/javascript').send(script);
  });

  // The token from the header; the stream also takes it as ?token=, since EventSource sends no header.
  // Logs and metrics name the route pattern, never the URL, so a token in the query is not logged.
  const authenticate: RequestHandler = async (req, res, next) => {
    const inQuery =
      req.path === '/stream' && typeof req.query.token === 'string' ? req.query.token : undefined;
    const token = bearerToken(req) ?? inQuery;
    if (!token) throw refused('missing');
    const verified = await tokens.verify(db, token);
    if (!verified.valid) throw refused(verified.reason);
    res.locals.inboxCaller = { userId: verified.userId, expiresAt: verified.expiresAt } satisfies InboxCaller;
    // The request log names the caller's kind; the rate limit counts by user.
    req.caller = { keyId: `inbox:${verified.userId}`, name: 'inbox' };
    next();
  };

  const api = express.Router();
  api.use(
    cors({
      origins: deps.corsOrigins,
      methods: ['GET', 'POST'],
      headers: ['Authorization', 'Content-Type', 'Last-Event-ID'],
    }),
  );
  // Preflights carry no token: they are answered before it is asked for.
  api.options('/{*path}', preflight);
  // Refused tokens are refused before a body is read; a refused request changes nothing.
  api.use(authenticate, rateLimitPerKey(INBOX_RATE_LIMIT), requireJson);
  api.use(express.json({ limit: BODY_LIMIT, strict: true }));

  const userOf = (res: Response) => inboxCallerOf(res).userId;
  api.get('/messages', async (req, res) => {
    res.json(await inboxPage(db, userOf(res), parse(inboxFeedQuerySchema, req.query, '(query)')));
  });
  api.get('/counts', async (_req, res) => {
    res.json(await inboxBadge(db, userOf(res)));
  });
  const marks: InboxMark[] = ['read', 'unread', 'seen', 'archive'];
  for (const mark of marks) {
    api.post(`/messages/:id/${mark}`, async (req, res) => {
      const id = parse(inboxMessageIdSchema, req.params.id, 'id');
      const read = mark === 'read' ? parse(inboxReadSchema, req.body ?? {}) : {};
      res.json(await markMessage(deps, userOf(res), id, mark, read));
    });
  }
  // The inbox token's user acknowledges their own message; the message is read with it.
  api.post('/messages/:id/acknowledge', async (req, res) => {
    const id = parse(inboxMessageIdSchema, req.params.id, 'id');
    res.json(await acknowledgeMessage(deps, userOf(res), id));
  });
  api.post('/read-all', async (_req, res) => {
    res.json(await markAllRead(deps, userOf(res)));
  });
  api.get('/stream', async (req, res) => {
    const query = parse(streamQuerySchema, req.query, '(query)');
    await openStream(deps, req, res, inboxCallerOf(res), query);
  });

  router.use(INBOX_API_PATH, api);
  return router;
}

/** POST /v1/users/:id/inbox-token and DELETE: tokens for a user's pages, and revoking them all. */
export function inboxTokenIssuer(db: Db, options: InboxOptions | undefined) {
  const enabled = () => {
    if (!options) throw problems.notFound('The in-app inbox (set INBOX_SECRET)');
    return options.tokens;
  };
  return {
    async issue(idOrExternalId: string) {
      const { userId, token, expiresAt } = await enabled().issue(db, idOrExternalId);
      return { userId, token, expiresAt: expiresAt.toISOString() };
    },
    revoke: (idOrExternalId: string) => enabled().revoke(db, idOrExternalId),
  };
}
