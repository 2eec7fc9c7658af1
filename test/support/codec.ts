import { createHash } from 'node:crypto';
import { EncryptionCodec } from '../../src/platform/codec.js';
import type { CodecKey } from '../../src/platform/config.js';

/**
 * Fixed test keys: histories recorded with them (test/fixtures/histories) must decrypt in the replay
 * test for as long as they are kept, so these never change. Never use them outside tests.
 */
export const TEST_CODEC_KEYS: CodecKey[] = ['test-2026-11', 'test-2026-05'].map((id) => ({
  id,
  key: createHash('sha256').update(`herald test codec key ${id}`).digest(),
}));
export const TEST_CODEC_TOKEN = 'test-codec-token-0123456789';

/** Env for testEnv(): encryption on with the test keys (the first active), and the codec server. */
export const TEST_CODEC_ENV = {
  CODEC_KEYS: TEST_CODEC_KEYS.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(','),
  CODEC_AUTH_TOKEN: TEST_CODEC_TOKEN,
};

/** The codec the recorded histories were sealed with. */
export const testCodec = () => new EncryptionCodec(TEST_CODEC_KEYS);
