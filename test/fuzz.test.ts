// Hostile input, property-based (fast-check, fixed seed, bounded runs), beyond schemathesis's run of the
// OpenAPI document: random bytes, huge strings, invalid Unicode, control characters and injection strings
// into the bot (through the real handler and the Telegram fake) and into every API route. Nothing may
// crash or answer 5xx, every refusal is problem+json (API) or a reply (bot), and a refused input stores
// nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import webpush from 'web-push';
import { cleanText, MAX_MESSAGE_LENGTH, parseCommand } from '../src/bot/input.js';
import { COMMANDS } from '../src/bot/commands.js';
import { snapshotTables } from './support/db-snapshot.js';
import {
  byteString,
  FUZZ_SEED,
  fuzzRuns,
  hostileString,
  hostileText,
  hostileValue,
  INJECTIONS,
  loneSurrogate,
} from './support/hostile.js';
import { linkedPerson, snapshot as botSnapshot, useBotStack } from './support/bot-stack.js';
import { TEST_CODEC_ENV } from './support/codec.js';
import { PREFERENCES_SECRET } from './support/preference-center.js';
import {
  TEST_API_KEY,
  startHerald,
  terminateWorkflowsSince,
  testEnv,
  uniqueId,
  type RunningStack,
} from './support/stack.js';
import { INBOX_SECRET } from './support/inbox.js';

/** Updates sent to the bot: each is a real round trip through the Telegram fake. */
const BOT_RUNS = 120;
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** encodeURIComponent, but a lone surrogate goes out as the invalid UTF-8 bytes it would be, not a throw. */
const encodeSegment = (text: string) =>
  Array.from(text, (ch) => (LONE.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
/** Refusals meant for programs; the preference and unsubscribe pages answer people with HTML. */
const speaksProblem = (path: string) =>
  /^\/(v1|codec|telegram|providers|preferences\/api)(\/|$|\?)/.test(path);
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe(`bot input cleaning and command parsing (seed ${FUZZ_SEED})`, () => {
  const anyText = fc.oneof(hostileText, byteString, fc.string({ unit: 'binary', maxLength: 10_000 }));

  it('cleanText never throws and leaves only storable, NFC text of bounded length', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const text = cleanText(raw);
        assert.doesNotMatch(text, LONE);
        assert.doesNotMatch(text, CONTROL);
        assert.ok(!text.includes('\r'));
        assert.ok(text.length <= MAX_MESSAGE_LENGTH * 2);
        assert.equal(text, text.trim());
        assert.equal(text, text.normalize('NFC'));
        assert.equal(cleanText(text), text, 'cleaning twice changes nothing');
        assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text, 'round-trips through UTF-8');
      }),
      fuzzRuns(5_000),
    );
  });

  it('parseCommand never throws and names only a known shape', () => {
    const commandish = fc.oneof(
      anyText.map((s) => '/' + s),
      fc.tuple(fc.constantFrom(...Object.keys(COMMANDS)), hostileString).map(([c, a]) => `/${c} ${a}`),
      anyText,
    );
    fc.assert(
      fc.property(commandish, (raw) => {
        const command = parseCommand(cleanText(raw));
        if (!command) return;
        assert.match(command.name, /^[a-z0-9_]{0,32}$/);
        assert.equal(command.args, command.args.trim());
      }),
      fuzzRuns(5_000),
    );
  });
});

describe(`the bot against hostile messages and taps (seed ${FUZZ_SEED})`, () => {
  // No workers: nothing the bot starts could run, and the database moves only by the bot's hand.
  const t = useBotStack({ TELEGRAM_BOT_RATE_LIMIT: '100000' }, { queues: [] });
  const SORRY = /Something went wrong/;

  // Arguments no validator accepts: each carries a letter and a space or a symbol an address, a phone
  // number, quiet hours, a notification id or a link code cannot hold.
  const refusedArgs = fc
    .tuple(
      fc.constantFrom(...INJECTIONS.filter((s) => /[a-z].*[^A-Za-z0-9_-]|[^A-Za-z0-9_-].*[a-z]/.test(s))),
      hostileText,
    )
    .map(([injection, rest]) => `${injection} ${rest}`);
  const storingCommands = ['email', 'phone', 'quiet', 'status', 'start'];
  const input = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...storingCommands), refusedArgs)
        .map(([name, args]) => ({ kind: 'text' as const, text: `/${name} ${args}` })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(hostileString, hostileText).map(([name, args]) => ({
        kind: 'text' as const,
        text: `/${name.replace(/^\//, '')} ${args}`,
      })),
    },
    { weight: 3, arbitrary: hostileText.map((text) => ({ kind: 'text' as const, text: text })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('help', 'settings', 'prefs', 'cancel'), hostileText)
        .map(([name, args]) => ({ kind: 'text' as const, text: `/${name}@herald_test_bot ${args}` })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          hostileString,
          fc.string({ unit: 'binary', maxLength: 300 }),
          hostileString.map((s) => `set:ch:${s}`),
          hostileString.map((s) => `set:cat:${s}`),
        )
        .map((data) => ({ kind: 'tap' as const, data })),
    },
  );

  it(
    'answers every message and tap, stores nothing from a refused one, and keeps answering',
    { timeout: 120_000 },
    async () => {
      const someone = await linkedPerson(t);
      const settings = await someone.says('/settings', /Channels:/);
      const baseline = await botSnapshot(t, someone.chatId, someone.user.id);
      let runs = 0;

      await fc.assert(
        fc.asyncProperty(input, async (update) => {
          runs++;
          if (update.kind === 'text') {
            const reply = await someone.says(update.text);
            assert.doesNotMatch(reply.plainText, SORRY, 'the handler failed');
            assert.ok(reply.plainText.length > 0 && reply.plainText.length <= 4096);
          } else {
            const answer = await someone.taps(settings.messageId, update.data);
            assert.doesNotMatch(answer.text ?? '', SORRY, 'the handler failed');
          }
          assert.deepEqual(await botSnapshot(t, someone.chatId, someone.user.id), baseline);
        }),
        fuzzRuns(BOT_RUNS),
      );
      assert.equal(runs, BOT_RUNS);
      // Still serving, this chat and a new one.
      assert.match((await someone.says('/help')).plainText, /^What I can do/);
    },
  );

  it('ignores or answers malformed updates, and keeps answering', { timeout: 30_000 }, async () => {
    const someone = await linkedPerson(t);
    const chat = { id: Number(someone.chatId), type: 'private' };
    const malformed: Record<string, unknown>[] = [
      { message: { message_id: 1, chat, text: { $ne: null } } },
      { message: { message_id: 'x', chat, text: '/help' } },
      { message: { message_id: 1, chat: { id: '1; DROP TABLE users', type: 'private' }, text: '/help' } },
      { message: { message_id: 1, chat: { id: 1.5, type: 'private' }, text: '/help' } },
      { message: null },
      { message: [] },
      { callback_query: { id: 42, data: '/help' } },
      { callback_query: { id: '1', data: 'x'.repeat(10_000), message: { message_id: 1, chat } } },
      { callback_query: { id: '1', data: 'set:ch:email' } },
      { edited_message: { message_id: 1, chat, text: '<script>' } },
      {
        message: {
          message_id: 2,
          chat: { id: -100, type: 'supergroup' },
          text: "/start '; DROP TABLE users;--",
        },
      },
      { message: { message_id: 3, chat, text: '\ud800'.repeat(5_000) } },
      { message: { message_id: 4, chat, text: '\u0000'.repeat(5_000) } },
      { message: { message_id: 5, chat, caption: '<b>x</b>', photo: [{ file_id: '../../etc/passwd' }] } },
    ];
    for (const update of malformed) t.fake.addUpdate(update);
    await t.fake.drained();
    assert.equal(t.fake.messages.filter((m) => SORRY.test(m.plainText)).length, 0);
    assert.match((await someone.says('/help')).plainText, /^What I can do/);
  });
});

// ---------------------------------------------------------------------------------------------------

interface Operation {
  method: string;
  path: string;
  /** Top-level JSON properties of the request body, when it has one. */
  fields?: string[];
}

type Schema = {
  $ref?: string;
  properties?: Record<string, unknown>;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
};

/** Every operation of the document, with the properties of its JSON body (refs, allOf/oneOf/anyOf followed). */
function operationsOf(spec: {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, Schema> };
}): Operation[] {
  const resolve = (schema: Schema | undefined, seen = 0): string[] => {
    if (!schema || seen > 10) return [];
    if (schema.$ref) return resolve(spec.components?.schemas?.[schema.$ref.split('/').pop()!], seen + 1);
    return [
      ...Object.keys(schema.properties ?? {}),
      ...[...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].flatMap((s) =>
        resolve(s, seen + 1),
      ),
    ];
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const body = (op as { requestBody?: { content?: Record<string, { schema?: Schema }> } }).requestBody;
      const schema = body?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        fields: schema ? [...new Set(resolve(schema))] : undefined,
      });
    }
  return operations;
}

describe(`the API against hostile requests (seed ${FUZZ_SEED})`, () => {
  const vapid = webpush.generateVAPIDKeys();
  let herald: RunningStack;
  let operations: Operation[];
  const seeds: Record<string, string> = {};

  const startedAt = new Date();
  before(async () => {
    herald = await startHerald(
      testEnv({
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        TELEGRAM_BOT_TOKEN: '123456:fuzz',
        TELEGRAM_BOT_USERNAME: 'herald_test_bot',
        TELEGRAM_API_URL: 'http://127.0.0.1:9',
        TELEGRAM_WEBHOOK_SECRET: 'fuzz-webhook-secret-0123456789',
        TWILIO_AUTH_TOKEN: 'fuzz-twilio-auth-token',
        // The in-app inbox is on: its token route and feed are exercised too.
        INBOX_SECRET,
        PREFERENCES_SECRET,
        ...TEST_CODEC_ENV,
      }),
      // No worker: only the API's requests change the database while it is watched.
      { queues: [] },
    );
    operations = operationsOf(
      (await (await herald.api('/openapi.json')).json()) as Parameters<typeof operationsOf>[0],
    );
    const user = (await (
      await herald.api('/v1/users', { json: { externalId: uniqueId('fuzz'), email: 'fuzz@example.test' } })
    ).json()) as { id: string };
    seeds.user = user.id;
    const put = await herald.api('/v1/templates/fuzz-seed/en', {
      method: 'PUT',
      json: { title: 'T', body: 'B' },
    });
    assert.ok(put.ok);
    const notification = (await (
      await herald.api('/v1/notifications', {
        json: { userId: user.id, category: 'billing', title: 'T', body: 'B', sendAt: '2099-01-01T00:00:00Z' },
      })
    ).json()) as { id: string };
    // A row to watch: refusals must leave it as it is.
    seeds.notification = notification.id;
  });
  after(async () => {
    // Notifications accepted here would otherwise wait for a worker and run under a later test's.
    await terminateWorkflowsSince(herald.temporal, startedAt, 'fuzz run over');
    await herald?.stop();
  });

  /** A path of the document with its parameters filled: a real resource, or a hostile segment. */
  const fill = (path: string, hostile?: string) =>
    path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      if (hostile !== undefined) return encodeSegment(hostile);
      if (name === 'key') return 'fuzz-seed';
      if (name === 'locale') return 'en';
      // A notification that does not exist: bodies are validated first, and a valid one finds nothing
      // (no worker runs, so an update to a real one would wait for a worker).
      if (path.startsWith('/v1/notifications')) return randomUUID();
      return seeds.user!;
    });

  let baseline: Record<string, string>;
  beforeEach(async () => {
    baseline = await snapshotTables(herald.db);
  });
  /** One request; fails on a 5xx or a refusal that is not problem+json or that changed the database. */
  async function check(method: string, path: string, init: RequestInit = {}, what = `${method} ${path}`) {
    const res = await herald.api(path, { method, signal: AbortSignal.timeout(10_000), ...init });
    const text = await res.text();
    assert.ok(res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
    if (res.status >= 400) {
      if (speaksProblem(path))
        assert.match(
          res.headers.get('content-type') ?? '',
          /^application\/problem\+json/,
          `${what}: ${res.status} ${text.slice(0, 200)}`,
        );
      assert.deepEqual(
        await snapshotTables(herald.db),
        baseline,
        `${what} was refused (${res.status}) but changed the database`,
      );
    } else {
      baseline = await snapshotTables(herald.db);
    }
    return res.status;
  }

  const bodyOps = () => operations.filter((op) => op.method !== 'GET' && op.method !== 'DELETE');

  it(
    'random bytes as bodies, with and without application/json, get a 4xx problem',
    { timeout: 60_000 },
    async () => {
      const contentTypes = [
        undefined,
        'application/json',
        'application/json; charset=utf-16',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        '*/*',
      ];
      const invalidUtf8 = fc.constantFrom(
        [0xc0, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xff],
        [0xf8, 0x88, 0x80, 0x80, 0x80],
        [0xe2, 0x82],
        [0xf4, 0x90, 0x80, 0x80],
      );
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 2_000 }),
        // JSON whose string holds bytes that are not UTF-8.
        fc
          .tuple(invalidUtf8, hostileString)
          .map(([bad, s]) =>
            Buffer.concat([
              Buffer.from('{"title":"'),
              Buffer.from(bad),
              Buffer.from(JSON.stringify(s).slice(1, -1)),
              Buffer.from('","body":"x"}'),
            ]),
          ),
        // Lone surrogates as JSON escapes, in a value and in a key.
        fc
          .tuple(loneSurrogate, fc.constantFrom('externalId', 'title', 'email', 'url', 'category'))
          .map(([s, field]) =>
            Buffer.from(
              `{"${field}":"a\\u${s.charCodeAt(0).toString(16)}b","\\u${s.charCodeAt(0).toString(16)}":1}`,
            ),
          ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...bodyOps()),
          fc.constantFrom(...contentTypes),
          body,
          async (op, type, bytes) => {
            const headers: Record<string, string> = type ? { 'content-type': type } : {};
            await check(op.method, fill(op.path), { headers, body: bytes });
          },
        ),
        fuzzRuns(150),
      );
    },
  );

  it(
    'hostile values in every field of every body are refused or stored as plain data',
    { timeout: 90_000 },
    async () => {
      const ops = bodyOps().filter((op) => op.fields && op.fields.length > 0);
      assert.ok(ops.length >= 8, `found ${ops.length} operations with a JSON body`);
      const request = fc.constantFrom(...ops).chain((op) =>
        fc.record({
          op: fc.constant(op),
          body: fc.dictionary(fc.constantFrom(...op.fields!), hostileValue, { minKeys: 1 }),
          hostilePath: fc.option(hostileString, { freq: 4 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(request, async ({ op, body, hostilePath }) => {
          const path = fill(op.path, hostilePath ?? undefined);
          await check(
            op.method,
            path,
            { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
            `${op.method} ${op.path} ${JSON.stringify(body).slice(0, 200)}`,
          );
        }),
        fuzzRuns(250),
      );
    },
  );

  it('stores injection strings verbatim, as data', async () => {
    for (const injection of INJECTIONS.filter(
      (s) => !s.includes('\0') && !LONE.test(s) && s !== '__proto__',
    )) {
      const externalId = `${uniqueId('inj')}${injection}`.slice(0, 200);
      const created = await herald.api('/v1/users', { json: { externalId, timezone: 'UTC' } });
      if (created.status !== 201) {
        const refusal = await created.text();
        assert.equal(created.status, 422, refusal);
        continue;
      }
      const { id } = (await created.json()) as { id: string };
      const read = (await (await herald.api(`/v1/users/${id}`)).json()) as { externalId: string };
      // Stored as sent, only trimmed of surrounding whitespace (the schema trims).
      assert.equal(read.externalId, externalId.trim());
      const sent = await herald.api('/v1/notifications', {
        json: {
          userId: id,
          category: 'billing',
          title: injection,
          body: injection,
          data: { [injection]: injection },
          sendAt: '2099-01-01T00:00:00Z',
        },
      });
      const answer = await sent.text();
      assert.equal(sent.status, 202, answer);
      const { id: notificationId } = JSON.parse(answer) as { id: string };
      // The API shows the title; the row holds all three, as they were sent.
      const shown = await herald.db.notification.findUniqueOrThrow({ where: { id: notificationId } });
      assert.ok(
        [injection, injection.trim()].includes(shown.title ?? ''),
        `title ${JSON.stringify(shown.title)}`,
      );
      assert.ok(
        [injection, injection.trim()].includes(shown.body ?? ''),
        `body ${JSON.stringify(shown.body)}`,
      );
      assert.deepEqual(shown.data, { [injection]: injection });
    }
    baseline = await snapshotTables(herald.db);
  });

  it('refuses an object key named __proto__ instead of dropping it', async () => {
    // Found by the fuzz: `data: {"__proto__": "x"}` was accepted and stored as `{}`.
    for (const body of [
      `{"userId":"${seeds.user}","category":"billing","title":"t","body":"b","data":{"__proto__":"x"}}`,
      `{"userId":"${seeds.user}","category":"billing","title":"t","body":"b","data":{"a":{"__proto__":{"admin":true}}}}`,
      `{"__proto__":{"externalId":"proto"},"externalId":"${uniqueId('proto')}"}`,
    ]) {
      const path = body.includes('userId') ? '/v1/notifications' : '/v1/users';
      const res = await herald.api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const problem = (await res.json()) as { errors: { field: string; message: string }[] };
      assert.equal(res.status, 422, JSON.stringify(problem));
      assert.ok(problem.errors.some((e) => e.field.endsWith('__proto__') && /reserved/.test(e.message)));
    }
    assert.deepEqual(await snapshotTables(herald.db), baseline);
  });

  it('answers a path parameter that is not UTF-8 with a 422 problem, not a 500', async () => {
    // Found by the fuzz: the router's URIError reached the error handler as an internal error.
    for (const [method, path] of [
      ['GET', '/v1/users/%ED%A0%80'],
      ['PUT', '/v1/templates/%ff/en'],
      ['GET', '/v1/notifications/%zz'],
      ['OPTIONS', '/unsubscribe/%ed%a0%80'],
      ['POST', '/codec/%c0%af/decode'],
    ] as const) {
      const res = await rawPath(herald.apiUrl, method, path);
      assert.equal(res.status, 422, `${method} ${path}: ${res.status} ${res.body}`);
      assert.match(res.type, /^application\/problem\+json/);
      assert.match(res.body, /percent-encoded UTF-8/);
    }
  });

  it(
    'bodies near and over 256 KB: within the limit validated, over it 413, and nothing stored',
    { timeout: 60_000 },
    async () => {
      const limit = 256 * 1024;
      for (const size of [limit - 64, limit - 1, limit, limit + 1, limit * 4]) {
        for (const op of [
          { method: 'POST', path: '/v1/users' },
          { method: 'POST', path: '/v1/notifications' },
          { method: 'PUT', path: '/v1/templates/fuzz-seed/en' },
        ]) {
          const frame = '{"title":"","body":"x"}';
          const body = frame.replace('""', JSON.stringify('<'.repeat(Math.max(0, size - frame.length))));
          const status = await check(
            op.method,
            op.path,
            { headers: { 'content-type': 'application/json' }, body },
            `${op.method} ${op.path} ${size} bytes`,
          );
          if (Buffer.byteLength(body) > limit) assert.equal(status, 413, `${size} bytes`);
          else assert.ok(status >= 400 && status !== 413, `${size} bytes: ${status}`);
        }
      }
    },
  );

  it(
    'weird Idempotency-Key and X-Request-Id headers are refused or replaced, never echoed raw',
    { timeout: 60_000 },
    async () => {
      // fetch refuses control characters but tab in a header; everything else a client could send goes
      // here, and raw control characters go over a socket below.
      const fetchable = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
      const headerValue = fc.oneof(
        fc.string({ unit: 'binary-ascii', maxLength: 300 }).map(fetchable),
        fc.constantFrom(...INJECTIONS).map(fetchable),
        fc.integer({ min: 1, max: 5000 }).map((n) => 'k'.repeat(n)),
        fc
          .uint8Array({ maxLength: 100 })
          .map((b) => Buffer.from(b.filter((c) => c >= 0x20 && c !== 0x7f)).toString('latin1')),
      );
      await fc.assert(
        fc.asyncProperty(headerValue, headerValue, async (key, requestId) => {
          const res = await herald.api('/v1/notifications', {
            headers: {
              'idempotency-key': key,
              'x-request-id': requestId,
              'content-type': 'application/json',
            },
            body: JSON.stringify({
              userId: 'nobody-' + uniqueId(),
              category: 'billing',
              title: 'x',
              body: 'y',
            }),
            method: 'POST',
          });
          assert.ok(res.status < 500 && res.status >= 400, `${res.status}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
          assert.match(res.headers.get('x-request-id') ?? '', /^[A-Za-z0-9._:-]{1,128}$/);
          await res.text();
        }),
        fuzzRuns(150),
      );
      // Raw control characters in a header: Node's parser refuses the request with a plain 400.
      for (const value of ['a\u0001b', 'a\u007fb', 'x\u0000y']) {
        const status = await rawRequest(
          herald.apiUrl,
          `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${value}\r\nConnection: close\r\n\r\n`,
        );
        assert.match(status, /^HTTP\/1\.1 4\d\d/);
      }
      assert.equal((await herald.api('/healthz')).status, 200);
    },
  );

  it(
    'random paths, methods and query strings get no 5xx, and /v1 refusals are problem+json',
    { timeout: 60_000 },
    async () => {
      const segment = fc.oneof(
        hostileString.map(encodeSegment),
        fc.constantFrom(
          '%',
          '%zz',
          '%00',
          '%ff',
          '%ed%a0%80',
          '%c0%af',
          '..',
          '.',
          '%2e%2e',
          '%2f',
          ';',
          '~',
          '*',
          'users',
          'notifications',
          'templates',
          'webhooks',
          'telegram',
          'codec',
          'preferences',
          'unsubscribe',
        ),
      );
      const query = fc
        .array(fc.tuple(segment, segment), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
      const path = fc
        .tuple(
          fc.constantFrom(
            '/v1/',
            '/',
            '/v1/users/',
            '/v1/notifications',
            '/preferences/',
            '/unsubscribe/',
            '/codec/',
            '/telegram/',
          ),
          fc.array(segment, { maxLength: 4 }),
          query,
        )
        .map(([prefix, parts, q]) => `${prefix}${parts.join('/')}${q ? `?${q}` : ''}`);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
          path,
          async (method, p) => {
            const res = await rawPath(herald.apiUrl, method, p);
            assert.ok(res.status < 500, `${method} ${p}: ${res.status} ${res.body.slice(0, 300)}`);
            if (res.status >= 400 && speaksProblem(p) && method !== 'HEAD')
              assert.match(res.type, /^application\/problem\+json/, `${method} ${p}: ${res.status}`);
          },
        ),
        fuzzRuns(300),
      );
      assert.deepEqual(await snapshotTables(herald.db), baseline);
      assert.equal((await herald.api('/healthz')).status, 200);
    },
  );
});

/** Sends raw bytes and returns the status line (fetch would refuse or normalise what is sent). */
function rawRequest(url: string, request: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(Buffer.from(request, 'latin1')));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('end', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

/** A request whose path goes out byte for byte as given (fetch would normalise `..` and `%2e`). */
async function rawPath(url: string, method: string, path: string) {
  const { port } = new URL(url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () =>
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      ),
    );
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  assert.ok(status > 0, `no status line for ${method} ${path}: ${raw.slice(0, 200)}`);
  const type = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
  return { status, type, body };
}
