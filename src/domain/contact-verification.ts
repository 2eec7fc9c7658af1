// A contact changed through the bot takes effect only once its owner proves they hold it: a one-time
// code goes to the new address, and the person answers it. Until then the old contact stays in force.
// Only the code's SHA-256 is stored; a code is valid for 15 minutes and burns after 5 wrong answers.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/db.js';
import type { ChannelName } from '../activities/channels/registry.js';
import { updateUser } from './users.js';

export const VERIFICATION_TTL_MS = 15 * 60_000;
export const VERIFICATION_MAX_ATTEMPTS = 5;
/**
 * Codes sent in a day, at most: to one address (whoever asks: a number cannot be flooded through the bot,
 * nor billed for), and for one user (one person cannot spray codes across many numbers).
 */
export const VERIFICATION_DAILY_LIMITS = { address: 5, user: 10 } as const;
const DAY_MS = 24 * 3_600_000;

/** Six digits: typed on a phone, and 5 tries in 10^6 leave a guess one chance in 200,000. */
export const VERIFICATION_CODE = /^\d{6}$/;

const hash = (code: string) => createHash('sha256').update(code).digest('hex');

const addressHash = (channel: ChannelName, address: string) =>
  createHash('sha256').update(`${channel}:${address.toLowerCase()}`).digest('hex');

/**
 * Records a pending change of the user's contact on `channel` to `address` and returns the code to
 * send there. A new request replaces the one pending on that channel (its code stops working). Past a
 * daily limit, it records nothing and says which limit.
 */
export async function startVerification(
  db: Db,
  userId: string,
  channel: ChannelName,
  address: string,
  now = new Date(),
): Promise<{ code: string; expiresAt: Date } | { limited: 'address' | 'user' }> {
  const target = addressHash(channel, address);
  const since = new Date(now.getTime() - DAY_MS);
  // Sends older than a day no longer count: forget them as we go.
  await db.verificationSend.deleteMany({ where: { sentAt: { lt: since } } });
  const [toAddress, byUser] = await Promise.all([
    db.verificationSend.count({ where: { addressHash: target, sentAt: { gte: since } } }),
    db.verificationSend.count({ where: { userId, sentAt: { gte: since } } }),
  ]);
  if (toAddress >= VERIFICATION_DAILY_LIMITS.address) return { limited: 'address' };
  if (byUser >= VERIFICATION_DAILY_LIMITS.user) return { limited: 'user' };
  await db.verificationSend.create({ data: { userId, addressHash: target, sentAt: now } });
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expiresAt = new Date(now.getTime() + VERIFICATION_TTL_MS);
  const fields = { address, codeHash: hash(code), expiresAt, attempts: 0, createdAt: now };
  await db.contactVerification.upsert({
    where: { userId_channel: { userId, channel } },
    create: { userId, channel, ...fields },
    update: fields,
  });
  return { code, expiresAt };
}

/** Forgets a pending change (the code never arrived, or the person changed their mind). */
export async function dropVerification(db: Db, userId: string, channel: ChannelName): Promise<void> {
  await db.contactVerification.deleteMany({ where: { userId, channel } });
}

export type VerifyResult =
  | { ok: true; channel: ChannelName; address: string }
  | { ok: false; reason: 'none' | 'expired' | 'wrong' | 'burned'; attemptsLeft?: number };

/**
 * Checks a code against the user's pending changes. The right code stores the contact and ends the
 * verification; a wrong one costs an attempt on each pending change, and the last attempt burns it.
 */
export async function verifyContact(db: Db, userId: string, code: string, now = new Date()) {
  const pending = await db.contactVerification.findMany({
    where: { userId },
    orderBy: { createdAt: 'desc' },
  });
  const live = pending.filter((p) => p.expiresAt > now && p.attempts < VERIFICATION_MAX_ATTEMPTS);
  // Expired or burned ones are of no use to anyone.
  if (live.length < pending.length)
    await db.contactVerification.deleteMany({
      where: { id: { in: pending.filter((p) => !live.includes(p)).map((p) => p.id) } },
    });
  if (live.length === 0)
    return { ok: false, reason: pending.length > 0 ? 'expired' : 'none' } as VerifyResult;

  const given = Buffer.from(hash(code), 'hex');
  const match = live.find((p) => timingSafeEqual(Buffer.from(p.codeHash, 'hex'), given));
  if (match) {
    // Claim it first: of two answers racing with the same code, one stores the contact.
    const { count } = await db.contactVerification.deleteMany({
      where: { id: match.id, attempts: match.attempts },
    });
    if (count === 0) return { ok: false, reason: 'none' } as VerifyResult;
    const channel = match.channel as ChannelName;
    await updateUser(db, userId, { contacts: { [channel]: match.address } });
    return { ok: true, channel, address: match.address } as VerifyResult;
  }
  // One attempt taken from each pending change, atomically, so parallel guesses cannot exceed the limit.
  await db.contactVerification.updateMany({
    where: { id: { in: live.map((p) => p.id) } },
    data: { attempts: { increment: 1 } },
  });
  await db.contactVerification.deleteMany({
    where: { userId, attempts: { gte: VERIFICATION_MAX_ATTEMPTS } },
  });
  const attemptsLeft = Math.max(0, VERIFICATION_MAX_ATTEMPTS - 1 - Math.max(...live.map((p) => p.attempts)));
  return (
    attemptsLeft === 0 ? { ok: false, reason: 'burned' } : { ok: false, reason: 'wrong', attemptsLeft }
  ) as VerifyResult;
}
