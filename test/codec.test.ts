// The payload codec on its own: AES-256-GCM round trip, key rotation, refusal of unknown keys and
// altered data, passthrough of payloads written before encryption, and the CODEC_* configuration.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecError, ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../src/platform/codec.js';
import { ConfigError, loadConfig } from '../src/platform/config.js';
import { TEST_CODEC_KEYS } from './support/codec.js';

const [current, previous] = TEST_CODEC_KEYS as [(typeof TEST_CODEC_KEYS)[0], (typeof TEST_CODEC_KEYS)[0]];
const secret = { email: 'ada.lovelace@example.test', body: 'Your invoice #42 is ready.' };
const plain = () => defaultPayloadConverter.toPayload(secret)!;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const one = async (codec: EncryptionCodec, payload: Payload, op: 'encode' | 'decode') =>
  (await codec[op]([payload]))[0]!;

describe('EncryptionCodec', () => {
  it('seals a payload with the active key and opens it again, byte for byte', async () => {
    const codec = new EncryptionCodec(TEST_CODEC_KEYS);
    const sealed = await one(codec, plain(), 'encode');
    assert.equal(text(sealed.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(sealed.metadata?.[KEY_ID_METADATA]), current.id);
    assert.deepEqual(Object.keys(sealed.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA]);
    for (const word of [secret.email, secret.body, 'json/plain'])
      assert.ok(!text(sealed.data).includes(word), `"${word}" is readable in the sealed payload`);

    const opened = await one(codec, sealed, 'decode');
    assert.deepEqual(text(opened.data), text(plain().data));
    assert.equal(text(opened.metadata?.encoding), 'json/plain');
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened), secret);
  });

  it('uses a fresh IV for every payload', async () => {
    const codec = new EncryptionCodec(TEST_CODEC_KEYS);
    const [a, b] = await codec.encode([plain(), plain()]);
    assert.notDeepEqual(Buffer.from(a!.data!).subarray(0, 12), Buffer.from(b!.data!).subarray(0, 12));
    assert.notDeepEqual(a!.data, b!.data);
  });

  it('opens payloads sealed with an older key after the active key changed (rotation)', async () => {
    const before = new EncryptionCodec(TEST_CODEC_KEYS, previous.id);
    const sealed = await one(before, plain(), 'encode');
    assert.equal(text(sealed.metadata?.[KEY_ID_METADATA]), previous.id);

    const after = new EncryptionCodec(TEST_CODEC_KEYS, current.id);
    assert.deepEqual(defaultPayloadConverter.fromPayload(await one(after, sealed, 'decode')), secret);
    assert.equal(text((await one(after, plain(), 'encode')).metadata?.[KEY_ID_METADATA]), current.id);
  });

  it('refuses a payload sealed with a key it does not hold, naming the key id', async () => {
    const sealed = await one(new EncryptionCodec([previous]), plain(), 'encode');
    await assert.rejects(
      new EncryptionCodec([current]).decode([sealed]),
      (error: Error) =>
        error instanceof CodecError && /unknown encryption key id "test-2026-05"/.test(error.message),
    );
  });

  it('refuses altered ciphertext, an altered tag, a wrong key under the right id, and a stub', async () => {
    const codec = new EncryptionCodec(TEST_CODEC_KEYS);
    const sealed = await one(codec, plain(), 'encode');
    const altered = (index: number): Payload => {
      const data = Buffer.from(sealed.data!);
      data[index < 0 ? data.length + index : index]! ^= 0x01;
      return { metadata: sealed.metadata, data };
    };
    const failsAuthentication = (error: Error) =>
      error instanceof CodecError && /failed authentication/.test(error.message);
    await assert.rejects(codec.decode([altered(20)]), failsAuthentication); // ciphertext
    await assert.rejects(codec.decode([altered(-1)]), failsAuthentication); // tag
    await assert.rejects(codec.decode([altered(0)]), failsAuthentication); // IV
    const impostor = new EncryptionCodec([{ id: current.id, key: randomBytes(32) }]);
    await assert.rejects(impostor.decode([sealed]), failsAuthentication);
    await assert.rejects(
      codec.decode([{ metadata: sealed.metadata, data: Buffer.alloc(10) }]),
      (error: Error) => error instanceof CodecError && /too short/.test(error.message),
    );
    await assert.rejects(
      codec.decode([{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: sealed.data }]),
      (error: Error) => error instanceof CodecError && new RegExp(KEY_ID_METADATA).test(error.message),
    );
  });

  it('passes payloads that are not encrypted through decode unchanged (histories from before)', async () => {
    const codec = new EncryptionCodec(TEST_CODEC_KEYS);
    const unencrypted = [
      plain(),
      defaultPayloadConverter.toPayload(undefined)!,
      { data: Buffer.from('raw') },
    ];
    assert.deepEqual(await codec.decode(unencrypted), unencrypted);
    assert.deepEqual(await codec.encode([]), []);
  });

  it('needs its active key among its keys, and 32-byte keys', () => {
    assert.throws(() => new EncryptionCodec(TEST_CODEC_KEYS, 'missing'), CodecError);
    assert.throws(() => new EncryptionCodec([]), CodecError);
    assert.throws(() => new EncryptionCodec([{ id: 'short', key: randomBytes(16) }]), /AES-256 needs 32/);
  });
});

describe('CODEC_* configuration', () => {
  const base = { DATABASE_URL: 'postgresql://127.0.0.1/herald' };
  const keys = TEST_CODEC_KEYS.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return assert.fail('loadConfig accepted the configuration');
  };

  it('is off without CODEC_KEYS; with them, the first key is active unless CODEC_ACTIVE_KEY_ID says', () => {
    const off = loadConfig(base).codec;
    assert.deepEqual(off.keys, []);
    assert.equal(off.authToken, undefined);
    assert.deepEqual(off.corsOrigins, ['http://localhost:8233', 'http://127.0.0.1:8233']);

    const on = loadConfig({ ...base, CODEC_KEYS: keys }).codec;
    assert.deepEqual(on.keys, TEST_CODEC_KEYS);
    assert.equal(on.activeKeyId, current.id);
    const rotated = loadConfig({ ...base, CODEC_KEYS: keys, CODEC_ACTIVE_KEY_ID: previous.id }).codec;
    assert.equal(rotated.activeKeyId, previous.id);
    const urlSafe = `k:${current.key.toString('base64url')}`;
    assert.deepEqual(loadConfig({ ...base, CODEC_KEYS: urlSafe }).codec.keys, [
      { id: 'k', key: current.key },
    ]);
  });

  it('names the bad variable and never echoes key material', () => {
    const short = randomBytes(16).toString('base64');
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ CODEC_KEYS: `a:${short}` }, 'CODEC_KEYS', /key "a" must be the base64 of exactly 32 bytes/],
      [{ CODEC_KEYS: 'a:not base64 at all!' }, 'CODEC_KEYS', /exactly 32 bytes/],
      [{ CODEC_KEYS: current.key.toString('base64') }, 'CODEC_KEYS', /id:base64key/],
      [{ CODEC_KEYS: `${keys},test-2026-11:${short}` }, 'CODEC_KEYS', /exactly 32 bytes/],
      [
        { CODEC_KEYS: `x:${previous.key.toString('base64')},x:${current.key.toString('base64')}` },
        'CODEC_KEYS',
        /listed twice/,
      ],
      [{ CODEC_KEYS: keys, CODEC_ACTIVE_KEY_ID: 'nope' }, 'CODEC_ACTIVE_KEY_ID', /one of the key ids/],
      [{ CODEC_KEYS: keys, CODEC_AUTH_TOKEN: 'short' }, 'CODEC_AUTH_TOKEN', /16 to 256/],
      [{ CODEC_CORS_ORIGINS: 'http://localhost:8233/' }, 'CODEC_CORS_ORIGINS', /origins/],
    ];
    for (const [env, variable, message] of cases) {
      const found = problems(env);
      assert.deepEqual(
        found.map((p) => p.variable),
        [variable],
        JSON.stringify(env),
      );
      assert.match(found[0]!.message, message);
      for (const secretKey of [short, current.key.toString('base64'), previous.key.toString('base64')])
        assert.ok(!found[0]!.message.includes(secretKey), 'a key appears in the message');
    }
  });
});
