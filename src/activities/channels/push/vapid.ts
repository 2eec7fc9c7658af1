// VAPID (RFC 8292): the keys checked at start-up, and the signed Authorization header for each push service.
import { createECDH } from 'node:crypto';
import webpush from 'web-push';
import { ConfigError } from '../../../platform/config/define.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** Bad VAPID settings would fail every send; stop at start-up instead, naming the variable. */
export function checkVapid({ publicKey, privateKey, subject }: VapidKeys): void {
  const refuse = (variable: string, message: string) => new ConfigError([{ variable, message }]);
  try {
    // web-push checks the subject and both keys' encoding; its messages say which one is wrong.
    webpush.getVapidHeaders('https://push.example', subject, publicKey, privateKey, 'aes128gcm');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const variable = /subject/i.test(message)
      ? 'VAPID_SUBJECT'
      : /private/i.test(message)
        ? 'VAPID_PRIVATE_KEY'
        : 'VAPID_PUBLIC_KEY';
    throw refuse(variable, message);
  }
  // A mismatched pair signs tokens every push service rejects with 401/403.
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
  } catch {
    throw refuse('VAPID_PRIVATE_KEY', 'is not a P-256 private key');
  }
  if (!ecdh.getPublicKey().equals(Buffer.from(publicKey, 'base64url'))) {
    throw refuse('VAPID_PUBLIC_KEY', 'is not the public key of VAPID_PRIVATE_KEY');
  }
}

/** How long a signed VAPID token is used: web-push signs them for 12 hours; push services accept reuse. */
const VAPID_TOKEN_SECONDS = 12 * 3600;
const VAPID_TOKEN_REUSE_MS = 11 * 3600_000;

/**
 * The VAPID `Authorization` header for an endpoint, signed once per push service (origin) and reused for
 * an hour less than it is valid, instead of an ES256 signature for every message.
 */
export function createVapidAuthorizations({ publicKey, privateKey, subject }: VapidKeys) {
  const cache = new Map<string, { authorization: string; renewAt: number }>();
  return (endpoint: string): string => {
    const audience = new URL(endpoint).origin;
    const now = Date.now();
    const cached = cache.get(audience);
    if (cached && cached.renewAt > now) return cached.authorization;
    const { Authorization } = webpush.getVapidHeaders(
      audience,
      subject,
      publicKey,
      privateKey,
      'aes128gcm',
      Math.floor(now / 1000) + VAPID_TOKEN_SECONDS,
    );
    // Push services are few; a bound keeps a flood of odd endpoints from growing it without end.
    if (cache.size >= 1000) cache.clear();
    cache.set(audience, { authorization: Authorization, renewAt: now + VAPID_TOKEN_REUSE_MS });
    return Authorization;
  };
}
