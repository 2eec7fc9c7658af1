// Payload encryption: every payload Herald hands to Temporal (workflow and activity inputs and results,
// signals, updates, queries, memos, failure messages) is sealed with AES-256-GCM before it leaves the
// process, so Temporal's database holds no address or message text. Each payload names its key, so
// payloads sealed under an older key still open after the active key changes (rotation).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKey, Config } from './config.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

/** A payload that cannot be opened: an unknown key id, or data that fails authentication. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

const text = (bytes: Uint8Array | null | undefined) =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/**
 * Seals whole payloads (metadata and data) as `iv (12) ‖ ciphertext ‖ tag (16)`, the layout of
 * Temporal's encryption samples, under `encoding: binary/encrypted` and `encryption-key-id: <id>`.
 * Decoding leaves payloads in any other encoding as they are: histories written before encryption
 * was turned on still read.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly active: { id: string; key: Buffer };

  constructor(keys: readonly CodecKey[], activeKeyId = keys[0]?.id) {
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    const key = this.keys.get(activeKeyId ?? '');
    if (activeKeyId === undefined || !key) throw new CodecError(`no key "${activeKeyId}" to encrypt with`);
    for (const { id, key } of keys)
      if (key.length !== 32) throw new CodecError(`key "${id}" is ${key.length} bytes; AES-256 needs 32`);
    this.active = { id: activeKeyId, key };
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
      const plain = PayloadMessage.encode(payload).finish();
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(this.active.id),
        },
        data: Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
      if (keyId === undefined) throw new CodecError(`an encrypted payload without ${KEY_ID_METADATA}`);
      const key = this.keys.get(keyId);
      if (!key) throw new CodecError(`unknown encryption key id "${keyId}": it is not in CODEC_KEYS`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new CodecError(`an encrypted payload (key "${keyId}") is too short to be one`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new CodecError(
          `an encrypted payload (key "${keyId}") failed authentication: altered, or not sealed with that key`,
        );
      }
      return PayloadMessage.decode(plain);
    });
  }
}

const require = createRequire(import.meta.url);
/** Makes failure messages and stack traces payloads, so the codec seals them too (sandbox-safe module). */
// `.ts` run from source (tsx), `.js` compiled (dist/, which plain node runs in production).
export const failureConverterPath = require.resolve(`./failure-converter${path.extname(import.meta.url)}`);

/**
 * The data converter of every Temporal client and worker (and the failure converter of the workflow
 * bundle): encryption when CODEC_KEYS is set, Temporal's defaults when it is not.
 */
export function heraldDataConverter(codec: Config['codec']): DataConverter {
  if (codec.keys.length === 0) return {};
  return { payloadCodecs: [new EncryptionCodec(codec.keys, codec.activeKeyId)], failureConverterPath };
}
