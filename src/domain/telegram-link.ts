// Linking a Telegram chat to a Herald user: the API issues a single-use token inside a t.me deep link,
// the bot redeems it when the person opens the link (`/start <token>`). Only a hash is stored.
import { randomBytes } from 'node:crypto';
import { Api } from 'node-telegram-bot-api';
import { hashApiKey } from './api-keys.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../store/db.js';
import { claimContact } from './users.js';

/** Telegram passes a deep link's start parameter through if it is 1-64 characters of A-Z, a-z, 0-9, _, -. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** The same fast SHA-256 as API keys: 192 random bits need no slow hash. */
const hashLinkToken = hashApiKey;

export interface IssuedLink {
  token: string;
  expiresAt: Date;
}

/** A fresh token for the user; any earlier unused one stops working, so only the newest link links. */
export async function issueLinkToken(db: Db, userId: string, ttlMs: number): Promise<IssuedLink> {
  const token = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMs);
  await db.$transaction([
    db.telegramLinkToken.deleteMany({ where: { userId, usedAt: null } }),
    db.telegramLinkToken.create({ data: { userId, tokenHash: hashLinkToken(token), expiresAt } }),
  ]);
  return { token, expiresAt };
}

export type RedeemResult =
  | { linked: true; userId: string; externalId: string }
  | { linked: false; reason: 'malformed' | 'unknown' | 'expired' | 'used' };

/**
 * Links the chat to the token's user, once: the token is claimed by a conditional update, so two
 * chats racing with one token cannot both win. A chat belongs to one user: any other loses it.
 */
export async function redeemLinkToken(db: Db, token: string, chatId: string): Promise<RedeemResult> {
  if (!LINK_TOKEN_PATTERN.test(token)) return { linked: false, reason: 'malformed' };
  const tokenHash = hashLinkToken(token);
  const now = new Date();
  return db.$transaction(async (tx) => {
    const claimed = await tx.telegramLinkToken.updateMany({
      where: { tokenHash, usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    if (claimed.count === 0) {
      const found = await tx.telegramLinkToken.findUnique({ where: { tokenHash } });
      if (!found) return { linked: false, reason: 'unknown' } as const;
      return { linked: false, reason: found.usedAt ? 'used' : 'expired' } as const;
    }
    const { userId } = await tx.telegramLinkToken.findUniqueOrThrow({ where: { tokenHash } });
    await claimContact(tx, userId, 'telegram', chatId);
    const user = await tx.user.findUniqueOrThrow({ where: { id: userId }, select: { externalId: true } });
    return { linked: true, userId, externalId: user.externalId } as const;
  });
}

/** The bot's username for t.me links: TELEGRAM_BOT_USERNAME, else asked of Telegram once (getMe). */
export function botUsernameResolver(telegram: Config['telegram']): () => Promise<string | undefined> {
  let known: Promise<string | undefined> | undefined = telegram.botUsername
    ? Promise.resolve(telegram.botUsername)
    : undefined;
  return () => {
    if (known) return known;
    if (!telegram.token) return Promise.resolve(undefined);
    const api = new Api(telegram.token, { apiRoot: telegram.apiUrl, maxRetries: 1, timeoutMs: 10_000 });
    const asked = api.getMe().then((me) => me.username);
    known = asked;
    // A failed lookup is asked again next time rather than remembered.
    asked.catch(() => (known = undefined));
    return asked;
  };
}

export const deepLink = (username: string, token: string): string =>
  `https://t.me/${username}?start=${token}`;
