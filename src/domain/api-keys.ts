import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { isUuid } from '../platform/uuid.js';

/**
 * Keys carry 32 random bytes (256 bits), so nobody can guess one: a fast SHA-256 is the right hash here
 * (a slow password hash buys nothing and would cost on every request), and it can be looked up by index.
 */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** `hk_` plus the first characters of the random part: enough to recognise a key in a listing. */
const PREFIX_LENGTH = 10;

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `hk_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: hashApiKey(key) };
}

/**
 * What a key may do (docs/security.md has the table):
 * - `send`: create notifications, and read, cancel and retry the ones this key created; its own webhooks.
 * - `manage`: users, preferences, push subscriptions, templates and the links issued for users; read
 *   every notification. It sends nothing.
 * - `admin`: everything, every key's notifications and webhooks, and key management.
 */
export const API_KEY_SCOPES = ['send', 'manage', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A key created without scopes may only send: the least a service needs, and the least it can spoil. */
export const DEFAULT_SCOPES: readonly ApiKeyScope[] = ['send'];

export const apiKeyScopesSchema = z
  .array(z.enum(API_KEY_SCOPES, { message: `must be one of ${API_KEY_SCOPES.join(', ')}` }))
  .min(1, { message: 'must name at least one scope' })
  .transform((scopes) => API_KEY_SCOPES.filter((scope) => scopes.includes(scope)));

/** `send,manage` as the command line takes it. */
export const parseScopes = (text: string) =>
  apiKeyScopesSchema.safeParse(
    text
      .split(',')
      .map((scope) => scope.trim())
      .filter(Boolean),
  );

/** Scopes as stored, keeping only known ones: the database's check allows no others anyway. */
export const storedScopes = (scopes: readonly string[]): ApiKeyScope[] =>
  API_KEY_SCOPES.filter((scope) => scopes.includes(scope));

/** What a listing may show of a key: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const viewFields = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

export const apiKeyNameSchema = z
  .string()
  .trim()
  .min(1, { message: 'must not be empty' })
  .max(100, { message: 'must be at most 100 characters' })
  .regex(/^\P{C}+$/u, { message: 'must be printable characters only' });

/** Stores a new key under a name; the returned `key` is the only time it exists in clear. */
export async function createApiKey(
  db: Db,
  name: string,
  scopes: readonly ApiKeyScope[] = DEFAULT_SCOPES,
): Promise<{ key: string; view: ApiKeyView }> {
  const { key, prefix, hash } = generateApiKey();
  const view = await db.apiKey.create({
    data: { name: apiKeyNameSchema.parse(name), prefix, hash, scopes: apiKeyScopesSchema.parse(scopes) },
    select: viewFields,
  });
  return { key, view };
}

export const listApiKeys = (db: Db): Promise<ApiKeyView[]> =>
  db.apiKey.findMany({ select: viewFields, orderBy: { createdAt: 'asc' } });

export type RevokeResult =
  | { outcome: 'revoked' | 'already-revoked'; view: ApiKeyView }
  | { outcome: 'not-found' }
  | { outcome: 'ambiguous'; matches: ApiKeyView[] };

/** Revokes one key, named by its id or its prefix; a prefix that matches several keys revokes none. */
export async function revokeApiKey(db: Db, idOrPrefix: string): Promise<RevokeResult> {
  const matches = await db.apiKey.findMany({
    where: isUuid(idOrPrefix) ? { id: idOrPrefix.toLowerCase() } : { prefix: idOrPrefix },
    select: viewFields,
  });
  if (matches.length === 0) return { outcome: 'not-found' };
  if (matches.length > 1) return { outcome: 'ambiguous', matches };
  const target = matches[0]!;
  if (target.revokedAt) return { outcome: 'already-revoked', view: target };
  // The condition on revokedAt keeps the first revocation time when two revocations race.
  const { count } = await db.apiKey.updateMany({
    where: { id: target.id, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  const view = await db.apiKey.findUniqueOrThrow({ where: { id: target.id }, select: viewFields });
  return { outcome: count === 1 ? 'revoked' : 'already-revoked', view };
}
