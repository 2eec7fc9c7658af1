// Core settings for payload encryption: the keys that seal Temporal payloads, and the codec server the
// Temporal UI and CLI decrypt through.
import { z } from 'zod';
import { defineConfigSlice, variable } from './define.js';
import { origins } from './parsers.js';

/** An AES-256 key for payload encryption, named by the id each payload it seals carries. */
export interface CodecKey {
  id: string;
  key: Buffer;
}
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** `2026-11:<base64 of 32 bytes>,2026-05:<...>`. Messages name the id, never the key. */
const codecKeys = z.string().transform((value, ctx) => {
  const keys: CodecKey[] = [];
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const colon = item.indexOf(':');
    const id = item.slice(0, Math.max(colon, 0)).trim();
    const encoded = item.slice(colon + 1).trim();
    const key = Buffer.from(encoded, 'base64');
    const problem = !KEY_ID.test(id)
      ? `each entry must be id:base64key, the id 1-64 characters of A-Z a-z 0-9 . _ - (entry ${keys.length + 1})`
      : !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded) || key.length !== 32
        ? `key "${id}" must be the base64 of exactly 32 bytes (openssl rand -base64 32)`
        : keys.some((k) => k.id === id)
          ? `key id "${id}" is listed twice`
          : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must list at least one id:base64key' });
    return z.NEVER;
  }
  return keys;
});

export interface CodecConfig {
  codec: {
    /** AES-256-GCM keys for Temporal payloads; encryption is on when there is one. */
    keys: CodecKey[];
    /** The key new payloads are sealed with; every listed key still opens old ones (rotation). */
    activeKeyId?: string;
    /** The codec server on the API (/codec) for the Temporal UI and CLI; it is off without a token. */
    authToken?: string;
    /** Browser origins (the Temporal UI) allowed to call the codec server. */
    corsOrigins: string[];
  };
}

export const payloadEncryptionConfig = defineConfigSlice({
  title: 'Payload encryption',
  summary:
    "With `CODEC_KEYS` set, every payload Herald hands to Temporal is encrypted with AES-256-GCM, so Temporal's database holds no address and no message text; search attributes stay readable.",
  variables: {
    CODEC_KEYS: variable({
      description:
        'Comma-separated `id:base64key` entries, each key the base64 of 32 bytes (`openssl rand -base64 32`); payloads are not encrypted without it. `npm run dev` generates one.',
      parse: codecKeys,
      secret: true,
    }),
    CODEC_ACTIVE_KEY_ID: variable({
      description: 'The id of the key new payloads are encrypted with; every listed key still decrypts.',
      parse: z.string().regex(KEY_ID, { message: 'must be a key id listed in CODEC_KEYS' }),
      whenUnset: 'the first in `CODEC_KEYS`',
    }),
    CODEC_AUTH_TOKEN: variable({
      description:
        '16-256 characters of `A-Za-z0-9._~-`: the API serves the codec server at `/codec` to whoever sends it, and not at all without it. `npm run dev` generates one.',
      parse: z.string().regex(/^[A-Za-z0-9._~-]{16,256}$/, {
        message: 'must be 16 to 256 characters of A-Z, a-z, 0-9, ., _, ~ and - (it may appear in a URL path)',
      }),
      secret: true,
    }),
    CODEC_CORS_ORIGINS: variable({
      description: 'Comma-separated browser origins (the Temporal UI) that may call the codec server.',
      parse: origins,
      default: 'http://localhost:8233,http://127.0.0.1:8233',
    }),
  },
  check: (v) =>
    v.CODEC_ACTIVE_KEY_ID && !v.CODEC_KEYS?.some((k) => k.id === v.CODEC_ACTIVE_KEY_ID)
      ? [{ variable: 'CODEC_ACTIVE_KEY_ID', message: 'must be one of the key ids in CODEC_KEYS' }]
      : [],
  production: {
    description:
      'Production warns at start when `CODEC_KEYS` is empty: payloads then reach Temporal unencrypted.',
    warn: (v) =>
      v.CODEC_KEYS
        ? []
        : [
            {
              variable: 'CODEC_KEYS',
              message:
                'is empty: payloads reach Temporal unencrypted, so its database holds addresses and message text',
            },
          ],
  },
  toConfig: (v): CodecConfig => ({
    codec: {
      keys: v.CODEC_KEYS ?? [],
      activeKeyId: v.CODEC_ACTIVE_KEY_ID ?? v.CODEC_KEYS?.[0]?.id,
      authToken: v.CODEC_AUTH_TOKEN,
      corsOrigins: v.CODEC_CORS_ORIGINS,
    },
  }),
});
