import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { bearerToken } from './credentials.js';
import type { Db } from '../store/db.js';
import { hashApiKey, storedScopes, type ApiKeyScope } from '../domain/api-keys.js';
import { ForbiddenError } from '../domain/errors.js';
import { HttpProblem } from './problem.js';

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

/** `Authorization: Bearer <key>`: keys from API_KEYS, or hashed keys in the database that are not revoked. */
export function requireApiKey(db: Db, envKeys: readonly string[]): RequestHandler {
  const envHashes = envKeys.map((key) => Buffer.from(hashApiKey(key), 'hex'));
  const lastTouched = new Map<string, number>();

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
    // The stored hash is found by an index lookup: a hash of a 256-bit key leaks nothing worth timing.
    const stored = await db.apiKey.findUnique({ where: { hash } });
    if (!stored || stored.revokedAt) throw unauthorized('The API key is not valid');
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
