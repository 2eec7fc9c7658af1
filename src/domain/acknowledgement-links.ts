// What lets a recipient acknowledge a notification outside the inbox: a signed link (email, push, chat
// messages, SMS) to a confirmation page, and a compact signed payload for a Telegram button. Both are
// signed with PREFERENCES_SECRET (the secret of people's links) under their own domain strings, name one
// delivery, and change nothing but that delivery's acknowledgement. A link carries its user's link
// version too, so revoking the user's links (link-revocation.ts) voids it, and it expires.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../platform/config.js';
import type { LinkHolder, Verified } from './preference-links.js';
import { createTokenSigner } from './signed-tokens.js';

export const ACKNOWLEDGE_PATH = '/ack';
/** How long an acknowledge link works: longer than any escalation waits, short enough to age out. */
export const ACKNOWLEDGE_LINK_TTL_MS = 30 * 24 * 3_600_000;
/** What the action is called wherever it is shown. */
export const ACKNOWLEDGE_LABEL = 'Acknowledge';

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (bytes: Buffer) =>
  bytes.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const compact = (uuid: string) => uuidBytes(uuid).toString('base64url');

/** A UUID in 22 base64url characters: links go into SMS, where every character counts. */
const compactUuid = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/)
  .transform((value) => uuidOf(Buffer.from(value, 'base64url')));
// No kind field: the signer's domain string already keeps these tokens apart from every other kind.
const linkClaims = z.object({
  /** The delivery acknowledged. */
  d: compactUuid,
  u: compactUuid,
  /** The user's link version when it was made. */
  v: z.int().min(0),
  exp: z.int().positive(),
});

/** `ack:<delivery id, 22 base64url characters>.<MAC, 16>`: 43 bytes, within callback_data's 64. */
const BUTTON_DATA = /^ack:([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{16})$/;
/** 96 bits of HMAC-SHA256: a button is tapped by a person, not tried a billion times a second. */
const BUTTON_MAC_BYTES = 12;

export interface AcknowledgementLinks {
  /** The link that acknowledges the delivery, for its user, valid for 30 days from `now`. */
  url(deliveryId: string, user: LinkHolder, now?: Date): string;
  /** The payload of a chat button that acknowledges the delivery. */
  buttonData(deliveryId: string): string;
  verifyLink(
    token: string,
    now?: Date,
  ): Verified<{ deliveryId: string; userId: string; linkVersion: number; expiresAt: Date }>;
  /** The delivery a genuine button names; undefined for any other payload, altered or forged. */
  readButton(data: string): string | undefined;
}

export function createAcknowledgementLinks({
  secret,
  publicUrl,
}: {
  secret: string;
  /** Where people reach the API, without a trailing slash. */
  publicUrl: string;
}): AcknowledgementLinks {
  const links = createTokenSigner(secret, 'herald-ack-link.v1', linkClaims);
  const buttonMac = (id: Buffer) =>
    createHmac('sha256', secret)
      .update('herald-ack-button.v1.')
      .update(id)
      .digest()
      .subarray(0, BUTTON_MAC_BYTES);
  return {
    url(deliveryId, user, now = new Date()) {
      const exp = Math.floor((now.getTime() + ACKNOWLEDGE_LINK_TTL_MS) / 1000);
      const token = links.sign({ d: compact(deliveryId), u: compact(user.id), v: user.linkVersion, exp });
      return `${publicUrl}${ACKNOWLEDGE_PATH}/${token}`;
    },
    buttonData(deliveryId) {
      const id = uuidBytes(deliveryId);
      return `ack:${compact(deliveryId)}.${buttonMac(id).toString('base64url')}`;
    },
    verifyLink(token, now = new Date()) {
      const claims = links.open(token);
      if (!claims) return { valid: false, reason: 'invalid' };
      const expiresAt = new Date(claims.exp * 1000);
      if (expiresAt.getTime() <= now.getTime()) return { valid: false, reason: 'expired' };
      return { valid: true, deliveryId: claims.d, userId: claims.u, linkVersion: claims.v, expiresAt };
    },
    readButton(data) {
      const match = BUTTON_DATA.exec(data);
      if (!match) return undefined;
      const id = Buffer.from(match[1]!, 'base64url');
      // Compared as text, as signed-tokens.ts does: only our spelling of the MAC counts.
      const expected = Buffer.from(buttonMac(id).toString('base64url'));
      const given = Buffer.from(match[2]!);
      if (id.length !== 16 || given.length !== expected.length || !timingSafeEqual(given, expected))
        return undefined;
      return uuidOf(id);
    },
  };
}

/** The deployment's acknowledge links, or undefined without PREFERENCES_SECRET. */
export function acknowledgementLinksFromConfig(
  config: Pick<Config, 'preferences' | 'publicUrl'>,
): AcknowledgementLinks | undefined {
  const { secret } = config.preferences;
  return secret ? createAcknowledgementLinks({ secret, publicUrl: config.publicUrl }) : undefined;
}

/** Whether a button payload is an acknowledgement's (routed to it rather than to /settings). */
export const isAcknowledgeButton = (data: string | undefined): boolean => data?.startsWith('ack:') ?? false;
