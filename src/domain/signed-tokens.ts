// Tokens that carry their own claims, signed with HMAC-SHA256 (`<base64url claims>.<base64url MAC>`): a
// server checks them without storing them, and an altered or forged one is refused. Each kind of token
// signs under its own domain string, so one can never pass for another even under the same secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

/** `<base64url claims>.<base64url HMAC-SHA256>`. */
export const SIGNED_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,1024}\.[A-Za-z0-9_-]{43}$/;

export interface TokenSigner<In, Out = In> {
  sign(claims: In): string;
  /** The claims of an authentic token, or undefined for anything altered, forged or malformed. */
  open(token: string): Out | undefined;
}

/** Signs claims as the schema takes them in; opens them as it gives them out (defaults applied). */
export function createTokenSigner<S extends z.ZodType>(
  secret: string,
  domain: string,
  claimsSchema: S,
): TokenSigner<z.input<S>, z.output<S>> {
  const mac = (payload: string) => createHmac('sha256', secret).update(`${domain}.${payload}`).digest();
  return {
    sign(claims) {
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    open(token) {
      if (!SIGNED_TOKEN_PATTERN.test(token)) return undefined;
      const [payload, signature] = token.split('.') as [string, string];
      // Compared as text: base64url has more than one spelling of the same bytes, and only ours counts.
      const expected = Buffer.from(mac(payload).toString('base64url'));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      // A well-signed token holds what we wrote; parsing still guards against an old or odd shape.
      try {
        const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
        return parsed.success ? (parsed.data as z.output<S>) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
