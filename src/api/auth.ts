import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../lib/db.js';
import { hashApiKey } from '../lib/api-keys.js';
import { HttpProblem } from './problem.js';

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });

/** `Authorization: Bearer <key>`: keys from API_KEYS, or hashed keys in the database. */
export function requireApiKey(db: Db, envKeys: readonly string[]): RequestHandler {
  const envHashes = envKeys.map((key) => Buffer.from(hashApiKey(key), 'hex'));
  return async (req, _res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
    if (!match) throw unauthorized('Send an API key as `Authorization: Bearer <key>`');
    const hash = hashApiKey(match[1]!);
    const hashBytes = Buffer.from(hash, 'hex');
    const envIndex = envHashes.findIndex((candidate) => timingSafeEqual(candidate, hashBytes));
    if (envIndex >= 0) {
      req.caller = { keyId: `env-${envIndex}`, name: `API_KEYS[${envIndex}]` };
      return next();
    }
    const stored = await db.apiKey.findUnique({ where: { hash } });
    if (!stored || stored.revokedAt) throw unauthorized('The API key is not valid');
    req.caller = { keyId: stored.id, name: stored.name };
    next();
  };
}
