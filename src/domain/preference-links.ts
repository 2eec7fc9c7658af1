// Signed links into the preference center: a page link per user that expires, and an unsubscribe link
// per (user, category) for an email's List-Unsubscribe header. HMAC-SHA256 with PREFERENCES_SECRET, so
// nothing is stored and an altered link is refused; changing the secret voids every link. Each link
// also carries its user's link version, so one user's links can be revoked (link-revocation.ts).
import { z } from 'zod';
import type { Config } from '../platform/config.js';
import { SIGNED_TOKEN_PATTERN, createTokenSigner } from './signed-tokens.js';

export const PREFERENCES_PATH = '/preferences';
export const UNSUBSCRIBE_PATH = '/unsubscribe';

/** `<base64url claims>.<base64url HMAC>`: what may follow the paths above. */
export const LINK_TOKEN_PATTERN = SIGNED_TOKEN_PATTERN;

const uuid = z.uuid();
/** The user's link version when the link was made; links from before versions count as 0. */
const version = z.int().min(0).default(0);
const claimsSchema = z.discriminatedUnion('k', [
  /** The preference page of user `u` until `exp` (seconds since the epoch). */
  z.object({ k: z.literal('page'), u: uuid, v: version, exp: z.int().positive() }),
  /**
   * Category `c` off on email for user `u`, from the email of notification `n`. No expiry: mail
   * clients use List-Unsubscribe long after delivery, and all it can do is opt out.
   */
  z.object({
    k: z.literal('unsubscribe'),
    u: uuid,
    v: version,
    c: z.string().min(1).max(64),
    n: uuid.optional(),
  }),
]);
type Claims = z.input<typeof claimsSchema>;

export type Verified<T> = ({ valid: true } & T) | { valid: false; reason: 'invalid' | 'expired' };

/** Whose links: the user and the link version their links carry now (users.link_version). */
export interface LinkHolder {
  id: string;
  linkVersion: number;
}

/** What a genuine link says about its user; whether that version still stands is the caller's check. */
interface LinkUser {
  userId: string;
  linkVersion: number;
}

export interface PageLink {
  url: string;
  token: string;
  expiresAt: Date;
}

export interface PreferenceLinks {
  /** A link to the user's preference page, valid for PREFERENCES_LINK_TTL from `now`. */
  pageLink(user: LinkHolder, now?: Date): PageLink;
  /** The one-click unsubscribe URL for one category on email (RFC 8058). */
  unsubscribeUrl(user: LinkHolder, category: string, notificationId?: string): string;
  verifyPage(token: string, now?: Date): Verified<LinkUser & { expiresAt: Date }>;
  verifyUnsubscribe(token: string): Verified<LinkUser & { category: string; notificationId?: string }>;
}

export interface PreferenceLinkOptions {
  secret: string;
  /** Where people reach the API, without a trailing slash. */
  publicUrl: string;
  linkTtlMs: number;
}

export function createPreferenceLinks({
  secret,
  publicUrl,
  linkTtlMs,
}: PreferenceLinkOptions): PreferenceLinks {
  // The domain string keeps these MACs apart from anything else the same secret might ever sign.
  const { sign, open } = createTokenSigner(secret, 'herald-preference-link.v1', claimsSchema);

  return {
    pageLink(user, now = new Date()) {
      const exp = Math.floor((now.getTime() + linkTtlMs) / 1000);
      const token = sign({ k: 'page', u: user.id, v: user.linkVersion, exp });
      return { url: `${publicUrl}${PREFERENCES_PATH}/${token}`, token, expiresAt: new Date(exp * 1000) };
    },
    unsubscribeUrl(user, category, notificationId) {
      const claims: Claims = {
        k: 'unsubscribe',
        u: user.id,
        v: user.linkVersion,
        c: category,
        ...(notificationId ? { n: notificationId } : {}),
      };
      return `${publicUrl}${UNSUBSCRIBE_PATH}/${sign(claims)}`;
    },
    verifyPage(token, now = new Date()) {
      const claims = open(token);
      if (claims?.k !== 'page') return { valid: false, reason: 'invalid' };
      const expiresAt = new Date(claims.exp * 1000);
      if (expiresAt.getTime() <= now.getTime()) return { valid: false, reason: 'expired' };
      return { valid: true, userId: claims.u, linkVersion: claims.v, expiresAt };
    },
    verifyUnsubscribe(token) {
      const claims = open(token);
      if (claims?.k !== 'unsubscribe') return { valid: false, reason: 'invalid' };
      return {
        valid: true,
        userId: claims.u,
        linkVersion: claims.v,
        category: claims.c,
        notificationId: claims.n,
      };
    },
  };
}

/** The deployment's links, or undefined when the preference center is off (no PREFERENCES_SECRET). */
export function preferenceLinksFromConfig(
  config: Pick<Config, 'preferences' | 'publicUrl'>,
): PreferenceLinks | undefined {
  const { secret, linkTtlMs } = config.preferences;
  return secret ? createPreferenceLinks({ secret, publicUrl: config.publicUrl, linkTtlMs }) : undefined;
}
