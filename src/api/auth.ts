import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { bearerToken } from './credentials.js';
import type { Db } from '../store/db.js';
import { hashApiKey, storedScopes, type ApiKeyScope } from '../domain/api-keys.js';
import { ForbiddenError } from '../domain/errors.js';
import { HttpProblem } from './problem.js';
import { createTokenBuckets } from '../platform/token-bucket.js';

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });

/** lastUsedAt is a hint for people auditing keys: minute precision spares a hot key a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Compares against every key, matched or not, so the time taken says nothing about which one matched. */
function findEnvKey(envHashes: readonly Buffer[], hash: Buffer): number {
  let found = -1;
  envHashes.forEach((candidate, index) => {
    if (timingSafeEqual(candidate, hash) && found < 0) found = index;
  });
  return found;
}

export interface UnknownKeyLimit {
  /** Unknown keys a client address may try a second, sustained. */
  perSecond: number;
  /** Unknown keys a client address may try at once. */
  burst: number;
  /** Milliseconds on a monotonic clock; injectable so tests need not sleep. */
  now?: () => number;
}

/** Generous for a client that mistyped its key, useless for guessing: 20 at once, then one a second. */
export const UNKNOWN_KEY_LIMIT: UnknownKeyLimit = { perSecond: 1, burst: 20 };

/**
 * `Authorization: Bearer <key>`: keys from API_KEYS, or hashed keys in the database that are not revoked.
 *
 * A key that is not an API_KEYS key costs a database lookup, so a flood of made-up keys would be a flood
 * of queries. Each client address (req.ip) has a bucket of failed lookups: while it is empty, a key that
 * is not an API_KEYS key gets 429 before any lookup. A stored key that is found costs nothing.
 */
export function requireApiKey(
  db: Db,
  envKeys: readonly string[],
  unknownKeyLimit: UnknownKeyLimit = UNKNOWN_KEY_LIMIT,
): RequestHandler {
  const envHashes = envKeys.map((key) => Buffer.from(hashApiKey(key), 'hex'));
  const lastTouched = new Map<string, number>();
  const unknownKeys = createTokenBuckets({
    perMs: unknownKeyLimit.perSecond / 1000,
    burst: unknownKeyLimit.burst,
    now: unknownKeyLimit.now,
  });

  const touch = (id: string, lastUsedAt: Date | null) => {
    const now = Date.now();
    const last = Math.max(lastUsedAt?.getTime() ?? 0, lastTouched.get(id) ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    lastTouched.set(id, now);
    // Fire and forget: a lost lastUsedAt must never fail or slow the request it describes.
    db.apiKey.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
  };

  return async (req, _res, next) => {
    const token = bearerToken(req);
    if (!token) throw unauthorized('Send an API key as `Authorization: Bearer <key>`');
    const hash = hashApiKey(token);
    const envIndex = findEnvKey(envHashes, Buffer.from(hash, 'hex'));
    if (envIndex >= 0) {
      // The id follows the key, not its place in API_KEYS: reordering the list keeps webhooks and
      // idempotency keys with the key that made them. A hash prefix says nothing usable about the key.
      req.caller = { keyId: `env-${hash.slice(0, 16)}`, name: `API_KEYS[${envIndex}]`, scopes: ['admin'] };
      return next();
    }
    const address = req.ip ?? req.socket.remoteAddress ?? '';
    // Consulted, not charged: a lookup is allowed while this address has a failure left to spend.
    const room = unknownKeys.take(address, 0, 1);
    if (!room.allowed) {
      const retryAfter = Math.max(1, Math.ceil(room.retryAfterMs / 1000));
      throw new HttpProblem(
        429,
        'rate-limited',
        'Too many requests',
        `Too many unknown API keys from this address; retry in ${retryAfter} s`,
        undefined,
        { 'Retry-After': String(retryAfter) },
      );
    }
    // The stored hash is found by an index lookup: a hash of a 256-bit key leaks nothing worth timing.
    const stored = await db.apiKey.findUnique({ where: { hash } });
    if (!stored || stored.revokedAt) {
      unknownKeys.take(address, 1, 0);
      throw unauthorized('The API key is not valid');
    }
    touch(stored.id, stored.lastUsedAt);
    req.caller = { keyId: stored.id, name: stored.name, scopes: storedScopes(stored.scopes) };
    next();
  };
}

const scopesOf = (req: Request): readonly ApiKeyScope[] => req.caller?.scopes ?? [];

/**
 * Lets the request through when the key has one of `allowed` or is admin; else 403 before the route runs,
 * so a refused request changes nothing. Mount it after requireApiKey.
 */
export function requireScope(...allowed: ApiKeyScope[]): RequestHandler {
  const wanted = allowed.join(' or ');
  return (req, _res, next) => {
    const scopes = scopesOf(req);
    if (scopes.includes('admin') || allowed.some((scope) => scopes.includes(scope))) return next();
    throw new ForbiddenError(`This API key lacks the scope for this request: it needs ${wanted} (or admin)`);
  };
}

/**
 * Which notifications the key sees and may act on (cancel, retry): all of them, only the ones it
 * created (`source` = its id), or none. manage reads all and acts on none; send reads and acts on its own.
 */
export interface NotificationAccess {
  source: string;
  read: 'all' | 'own';
  act: 'all' | 'own' | 'none';
}
export function notificationAccess(req: Request): NotificationAccess {
  const scopes = scopesOf(req);
  const admin = scopes.includes('admin');
  return {
    source: req.caller?.keyId ?? '',
    read: admin || scopes.includes('manage') ? 'all' : 'own',
    act: admin ? 'all' : scopes.includes('send') ? 'own' : 'none',
  };
}
