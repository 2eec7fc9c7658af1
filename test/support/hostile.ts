// Hostile input for the fuzz and security tests: what an attacker, a broken client or a bored person
// types. fast-check draws from these; a failure prints the seed and the shrunk counterexample.
import fc from 'fast-check';

/** Strings that mean something to some layer: SQL, HTML, Telegram HTML, templates, paths, shells. */
export const INJECTIONS = [
  "'; DROP TABLE users;--",
  "' OR '1'='1",
  '" OR ""="',
  '1; SELECT pg_sleep(5)',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<b>bold</b><a href="tg://user?id=1">x</a>',
  '&lt;b&gt; &amp; &#x3C;',
  '</pre><tg-spoiler>',
  '{{template}}',
  '{{constructor.constructor("return process")()}}',
  '${process.env}',
  '__proto__',
  'constructor',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '\u0000',
  'a\u0000b',
  '$(reboot)',
  '`id`',
  '\r\nSet-Cookie: x=1',
  'javascript:alert(1)',
  'mailto:a@b.c?bcc=x@y.z',
  '\u202eevil\u202c',
  '\u200b\ufeff',
  '\ud800',
  '\udfff',
  'x\ud83d',
];

/** One unpaired UTF-16 surrogate: JSON can carry it, UTF-8 and PostgreSQL cannot. */
export const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));

/** C0, C1, zero-width and bidi control characters. */
export const controlChar = fc
  .oneof(
    fc.integer({ min: 0, max: 0x1f }),
    fc.integer({ min: 0x7f, max: 0x9f }),
    fc.constantFrom(0x200b, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069, 0xfeff),
  )
  .map((code) => String.fromCharCode(code));

/** Random bytes read as a string (each byte one character), the way a careless client decodes them. */
export const byteString = fc
  .uint8Array({ maxLength: 300 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'));

/** A string mixing all of the above with ordinary and astral Unicode. */
export const hostileString = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS) },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
      { weight: 1, arbitrary: loneSurrogate },
      { weight: 2, arbitrary: controlChar },
      { weight: 1, arbitrary: byteString },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** A hostile string, sometimes a huge one (past Telegram's 4096 and most field limits). */
export const hostileText = fc.oneof(
  { weight: 8, arbitrary: hostileString },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileString, fc.integer({ min: 4_000, max: 20_000 }))
      .map(([s, n]) => s.repeat(Math.ceil(n / Math.max(1, s.length))).slice(0, n)),
  },
);

/** Any JSON value a client could send where a field is expected, hostile strings included. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53 + 1) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Options for every property: fixed seed (reproducible in CI) and a bounded number of runs. */
export const FUZZ_SEED = 20261121;
export const fuzzRuns = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns, endOnFailure: true });
