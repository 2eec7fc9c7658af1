import { createHash, randomBytes } from 'node:crypto';

/** Keys are 32 random bytes, so a plain SHA-256 is a safe, indexable hash to store. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `hk_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}
