// End-user tokens for the in-app inbox: a user's web page reads that user's inbox with one, without an
// API key. Signed with INBOX_SECRET (src/domain/signed-tokens.ts), scoped to one user, valid until they
// expire (INBOX_TOKEN_TTL) or until the user's tokens are revoked: each token carries the user's token
// version at issue, and revoking moves the version on.
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { currentTokenVersion, revokeInboxTokens, validTokenVersion } from '../store/inbox-marks.js';
import { NotFoundError } from './errors.js';
import { createTokenSigner } from './signed-tokens.js';
import { findUser } from './users.js';

const claimsSchema = z.object({
  /** The user. */
  u: z.uuid(),
  /** The user's token version when it was issued. */
  v: z.int().min(0),
  /** Seconds since the epoch. */
  exp: z.int().positive(),
});

export interface InboxToken {
  token: string;
  expiresAt: Date;
}

/** Why a token was refused; every one is a 401 to the browser, which then asks its backend for a new one. */
export type InboxTokenRefusal = 'invalid' | 'expired' | 'revoked';
export type VerifiedInboxToken =
  { valid: true; userId: string; expiresAt: Date } | { valid: false; reason: InboxTokenRefusal };

export interface InboxTokens {
  /** A token for the user (Herald's id or externalId), valid for INBOX_TOKEN_TTL from `now`. */
  issue(db: Db, idOrExternalId: string, now?: Date): Promise<InboxToken & { userId: string }>;
  /** Voids every token issued to the user so far (and ends the streams they opened). */
  revoke(db: Db, idOrExternalId: string): Promise<void>;
  verify(db: Db, token: string, now?: Date): Promise<VerifiedInboxToken>;
}

export function createInboxTokens({ secret, ttlMs }: { secret: string; ttlMs: number }): InboxTokens {
  const signer = createTokenSigner(secret, 'herald-inbox-token.v1', claimsSchema);
  return {
    async issue(db, idOrExternalId, now = new Date()) {
      const user = await findUser(db, idOrExternalId);
      const version = await currentTokenVersion(db, user.id);
      if (version === undefined) throw new NotFoundError(`User ${idOrExternalId}`);
      const exp = Math.floor((now.getTime() + ttlMs) / 1000);
      return {
        userId: user.id,
        token: signer.sign({ u: user.id, v: version, exp }),
        expiresAt: new Date(exp * 1000),
      };
    },
    async revoke(db, idOrExternalId) {
      await revokeInboxTokens(db, (await findUser(db, idOrExternalId)).id);
    },
    async verify(db, token, now = new Date()) {
      const claims = signer.open(token);
      if (!claims) return { valid: false, reason: 'invalid' };
      const expiresAt = new Date(claims.exp * 1000);
      if (expiresAt.getTime() <= now.getTime()) return { valid: false, reason: 'expired' };
      // A deleted user's inbox row went with them: their tokens are void too.
      if ((await validTokenVersion(db, claims.u)) !== claims.v) return { valid: false, reason: 'revoked' };
      return { valid: true, userId: claims.u, expiresAt };
    },
  };
}
