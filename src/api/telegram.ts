// The API's side of the Telegram bot: link tokens for users, and the webhook Telegram POSTs updates to.
import express, { type RequestHandler } from 'express';
import { BODY_LIMIT, secretMatcher } from './credentials.js';
import { z } from 'zod';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import { Prisma } from '../store/db.js';
import { botUsernameResolver, deepLink, issueLinkToken } from '../domain/telegram-link.js';
import { HttpProblem } from './problem.js';
import { responseSchemas } from '../domain/views.js';
import { findUser } from '../domain/users.js';
import { unstorableFields } from './validate.js';

export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';
export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export const telegramLinkResponse = z
  .object({
    userId: z.uuid(),
    /** https://t.me/<bot>?start=<token>: opening it starts the bot, which links the chat. */
    url: z.url(),
    /** The same code, for `/start <token>` typed by hand; single-use. */
    token: z.string(),
    expiresAt: z.iso.datetime(),
  })
  .register(responseSchemas, { id: 'TelegramLink' });

export const telegramWebhookAck = z
  .object({ ok: z.literal(true) })
  .register(responseSchemas, { id: 'TelegramWebhookAck' });

/** POST /v1/users/:id/telegram-link: a t.me deep link that links the chat which opens it to the user. */
export function telegramLinkIssuer(db: Db, telegram: Config['telegram'] | undefined) {
  const username = telegram ? botUsernameResolver(telegram) : async () => undefined;
  return async (idOrExternalId: string): Promise<z.infer<typeof telegramLinkResponse>> => {
    const user = await findUser(db, idOrExternalId);
    const botUsername = await username().catch(() => {
      throw new HttpProblem(
        503,
        'telegram-unavailable',
        'Service unavailable',
        'Telegram did not tell the bot username; set TELEGRAM_BOT_USERNAME or retry',
        undefined,
        { 'Retry-After': '5' },
      );
    });
    if (!botUsername || !telegram)
      throw new HttpProblem(
        404,
        'not-found',
        'Not found',
        'The Telegram bot is not configured: set TELEGRAM_BOT_TOKEN, or TELEGRAM_BOT_USERNAME where the API holds no token',
      );
    const { token, expiresAt } = await issueLinkToken(db, user.id, telegram.linkTtlMs);
    return {
      userId: user.id,
      url: deepLink(botUsername, token),
      token,
      expiresAt: expiresAt.toISOString(),
    };
  };
}

/** Only update_id is Herald's to check here; the bot validates the rest when it handles the update. */
const updateSchema = z.looseObject({ update_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

/**
 * Telegram's webhook: the secret header must match (compared in constant time), then the update is
 * kept in telegram_updates for the bot process, which handles and removes it. Telegram redelivers an
 * update it got no 200 for; update_id makes a repeat a no-op.
 */
export function telegramWebhook(db: Db, secret: string): RequestHandler[] {
  const matches = secretMatcher(secret);
  const checkSecret: RequestHandler = (req, _res, next) => {
    if (!matches(req.header(SECRET_HEADER) ?? ''))
      throw new HttpProblem(401, 'unauthorized', 'Unauthorized', `Wrong or missing ${SECRET_HEADER} header`);
    next();
  };
  const accept: RequestHandler = async (req, res) => {
    const parsed = updateSchema.safeParse(req.body);
    // Kept as jsonb: what PostgreSQL cannot store (NUL, say) is no update Telegram sends.
    const unstorable = unstorableFields(req.body);
    if (!parsed.success || unstorable.length > 0)
      throw new HttpProblem(
        400,
        'malformed-update',
        'Malformed update',
        'The body is not a Telegram update',
        parsed.success ? unstorable : [{ field: 'update_id', message: 'must be a whole number' }],
      );
    await db.telegramUpdate.createMany({
      data: [{ updateId: BigInt(parsed.data.update_id), payload: parsed.data as Prisma.InputJsonValue }],
      skipDuplicates: true,
    });
    const ack: z.infer<typeof telegramWebhookAck> = { ok: true };
    res.json(ack);
  };
  // Telegram sends application/json; a body of any other type is no update (400), and is not read.
  return [checkSecret, express.json({ limit: BODY_LIMIT, strict: true }), accept];
}
