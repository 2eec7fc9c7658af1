// Payload encryption end to end (CODEC_KEYS set): a notification goes through the API, the workflow and
// the email worker to the SMTP sink, and its history, read without the codec as anyone with access to
// Temporal's database would, holds no address, title, body or data, only sealed payloads and failures.
// The client with the keys reads it all, and so does the codec server the Temporal UI calls.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type proto from '@temporalio/proto';
import { payloadFromJson, payloadToJson } from '../src/api/codec.js';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../src/platform/codec.js';
import { TEST_CODEC_ENV, TEST_CODEC_KEYS, TEST_CODEC_TOKEN, testCodec } from './support/codec.js';
import { recordHistory } from './support/histories.js';
import { eventually, uniqueId, untilStatus, useEmailStack } from './support/stack.js';

type Event = proto.temporal.api.history.v1.IHistoryEvent;
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
type Failure = proto.temporal.api.failure.v1.IFailure;

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const isPayload = (value: object): value is Payload =>
  Object.hasOwn(value, 'metadata') &&
  Object.keys(value).every((key) => ['metadata', 'data', 'externalPayloads'].includes(key)) &&
  Object.values((value as Payload).metadata ?? {}).every((v) => v instanceof Uint8Array);

/** Every string and every byte string (as UTF-8) of a history, and its payloads and failures by path. */
function inspect(
  value: unknown,
  path: string,
  found = {
    readable: [] as string[],
    payloads: [] as [string, Payload][],
    failures: [] as [string, Failure][],
  },
) {
  if (typeof value === 'string') found.readable.push(value);
  if (value instanceof Uint8Array) found.readable.push(text(value));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  if (isPayload(value)) found.payloads.push([path, value]);
  if (/(failure|cause)$/i.test(path)) found.failures.push([path, value as Failure]);
  for (const [key, child] of Object.entries(value)) inspect(child, `${path}.${key}`, found);
  return found;
}

const sealed = (payload: Payload) =>
  text(payload.metadata?.encoding) === ENCRYPTED_ENCODING &&
  text(payload.metadata?.[KEY_ID_METADATA]) === TEST_CODEC_KEYS[0]!.id;
describe('payload encryption: what Temporal stores for a sent notification', () => {
  const t = useEmailStack(TEST_CODEC_ENV);
  const tag = uniqueId('codec');
  const secrets = {
    email: `${tag}.recipient@example.test`,
    title: `Confidential title ${tag}`,
    body: `Confidential body ${tag}: the launch code is 0000.`,
    data: `confidential-data-${tag}`,
  };
  let notificationId = '';
  let events: Event[] = [];
  /** Each activity's scheduled input and completed result, by activity type. */
  const activities = new Map<string, { input?: Payload[]; result?: Payload[] }>();

  before(async () => {
    const user = await t.herald.api('/v1/users', { json: { externalId: uniqueId(), email: secrets.email } });
    assert.equal(user.status, 201, await user.clone().text());
    const { id: userId } = (await user.json()) as { id: string };
    // One refused attempt first, so the history holds an activity failure too.
    t.smtp.failNext(451);
    const sent = await t.herald.api('/v1/notifications', {
      json: {
        userId,
        category: 'billing',
        title: secrets.title,
        body: secrets.body,
        data: { note: secrets.data },
      },
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    notificationId = ((await sent.json()) as { id: string }).id;

    const mail = await t.smtp.waitFor((m) => m.envelopeTo.includes(secrets.email), 30_000);
    assert.equal(mail.parsed.subject, secrets.title);
    await untilStatus(t.herald, notificationId, 'sent');
    const handle = t.herald.temporal.workflow.getHandle(`notification-${notificationId}`);
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', {
      what: 'the workflow to complete',
    });
    await recordHistory(handle, 'encrypted-email-retried-then-sent');

    // Read as someone without the keys: a plain client on the same server.
    const plain = new Client({
      connection: t.herald.temporal.connection,
      namespace: t.herald.config.temporal.namespace,
    });
    events = (await plain.workflow.getHandle(`notification-${notificationId}`).fetchHistory()).events ?? [];
    const types = new Map<string, string>();
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        types.set(String(event.eventId), scheduled.activityType!.name!);
        activities.set(scheduled.activityType!.name!, { input: scheduled.input?.payloads ?? [] });
      }
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed)
        activities.get(types.get(String(completed.scheduledEventId))!)!.result =
          completed.result?.payloads ?? [];
      // A local activity (the workflow's database steps) leaves a marker: its result, and no input.
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
        const [data] = marker.details?.data?.payloads ?? [];
        const { activity_type: type } = JSON.parse(text(data?.data)) as { activity_type: string };
        activities.set(type, { result: marker.details?.result?.payloads ?? [] });
      }
    }
  });

  it('holds no address, title, body or data anywhere in the history read without the codec', () => {
    assert.ok(events.length > 10, `a full history, found ${events.length} events`);
    const { readable } = inspect(events, 'history');
    const everything = [JSON.stringify(events), ...readable].join('\n');
    for (const [what, secret] of Object.entries(secrets))
      assert.ok(!everything.includes(secret), `the ${what} is readable in Temporal's history`);
    // Nor the plain JSON of activity results, which the codec (below) does find there.
    assert.ok(!everything.includes('providerMessageId'));
  });

  it('seals every payload (inputs, results, memo, failure attributes) but the search attributes', () => {
    const { payloads } = inspect(events, 'history');
    // Besides search attributes, only the SDK's own marker data (activity type, attempt; patch ids) is open.
    const sdkOwn = /\.markerRecordedEventAttributes\.details\.(data|patch-data)\./;
    // The OpenTelemetry interceptors' header: W3C trace context (ids only, empty when tracing is off), which
    // Temporal's headers carry outside the payload codec. Anything more in it would count as open.
    const traceContext = (path: string, p: (typeof payloads)[number][1]) =>
      /\.header\.fields\._tracer-data$/.test(path) &&
      Object.keys(JSON.parse(text(p.data)) as object).every((k) => k === 'traceparent' || k === 'tracestate');
    const open = payloads.filter(
      ([path, p]) =>
        !path.includes('.searchAttributes.') && !sdkOwn.test(path) && !traceContext(path, p) && !sealed(p),
    );
    assert.deepEqual(
      open.map(([path]) => path),
      [],
    );
    assert.ok(payloads.length >= 10, `payloads found: ${payloads.length}`);
    for (const name of ['resolveRecipient', 'deliverEmail', 'completeNotification']) {
      const activity = activities.get(name);
      // Local activities' inputs are not in the history at all.
      if (name === 'deliverEmail')
        assert.ok(activity?.input?.length && activity.input.every(sealed), `${name}'s input is sealed`);
      assert.ok(activity?.result?.length && activity.result.every(sealed), `${name}'s result is sealed`);
    }
  });

  it('keeps failure messages and stack traces out of the history: they are sealed payloads too', () => {
    const { failures } = inspect(events, 'history');
    assert.ok(failures.length >= 1, 'the refused attempt left a failure in the history');
    for (const [path, failure] of failures) {
      assert.equal(failure.message, 'Encoded failure', path);
      assert.ok(!failure.stackTrace, path);
      assert.ok(failure.encodedAttributes && sealed(failure.encodedAttributes), path);
    }
  });

  it('opens with the keys: inputs, results and the failure read as the workflow saw them', async () => {
    const codec = testCodec();
    const decode = async (payloads: Payload[] | undefined) =>
      (await codec.decode(payloads ?? [])).map((p) => defaultPayloadConverter.fromPayload(p));
    const [plan] = (await decode(activities.get('resolveRecipient')!.result)) as [{ planned: string[] }];
    assert.deepEqual(plan.planned, ['email']);
    const [delivered] = (await decode(activities.get('deliverEmail')!.result)) as [
      { providerMessageId: string },
    ];
    assert.match(delivered.providerMessageId, new RegExp(notificationId));
    const [failure] = inspect(events, 'history').failures;
    const [attributes] = (await decode([failure![1].encodedAttributes!])) as [{ message: string }];
    assert.match(attributes.message, /451/);
    // And the client that holds the keys reads the result as usual.
    assert.equal(
      await t.herald.temporal.workflow.getHandle(`notification-${notificationId}`).result(),
      'sent',
    );
  });

  describe('the codec server (/codec on the API)', () => {
    const codec = (
      path: string,
      init: { body?: unknown; headers?: Record<string, string>; method?: string } = {},
    ) =>
      fetch(`${t.herald.apiUrl}/codec${path}`, {
        method: init.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        body: init.method === 'OPTIONS' ? undefined : JSON.stringify(init.body ?? {}),
      });
    const bearer = { authorization: `Bearer ${TEST_CODEC_TOKEN}` };
    const resultOf = (name: string) => activities.get(name)!.result![0]!;

    it('decodes a payload from the history for the holder of the token, in the header or the path', async () => {
      for (const [path, headers] of [
        ['/decode', bearer],
        [`/${TEST_CODEC_TOKEN}/decode`, { 'x-namespace': 'default' }],
      ] as const) {
        const res = await codec(path, {
          body: { payloads: [payloadToJson(resultOf('resolveRecipient'))] },
          headers,
        });
        assert.equal(res.status, 200, await res.clone().text());
        const { payloads } = (await res.json()) as {
          payloads: { metadata: Record<string, string>; data: string }[];
        };
        assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
        assert.deepEqual(
          (defaultPayloadConverter.fromPayload(payloadFromJson(payloads[0]!)) as { planned: string[] })
            .planned,
          ['email'],
        );
      }
    });

    it('encodes with the active key what it then decodes; another namespace passes through', async () => {
      const input = payloadToJson(defaultPayloadConverter.toPayload({ hello: 'operator' })!);
      const encoded = (await (
        await codec('/encode', { body: { payloads: [input] }, headers: bearer })
      ).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.ok(sealed(payloadFromJson(encoded.payloads[0]!)));
      const decoded = (await (await codec('/decode', { body: encoded, headers: bearer })).json()) as {
        payloads: unknown[];
      };
      assert.deepEqual(decoded.payloads, [input]);
      const foreign = await codec('/decode', {
        body: encoded,
        headers: { ...bearer, 'x-namespace': 'someone-else' },
      });
      assert.deepEqual(await foreign.json(), encoded);
    });

    it('refuses a missing or wrong token (401), a payload it cannot open (422), and a body that is not JSON (415)', async () => {
      const body = { payloads: [payloadToJson(resultOf('deliverEmail'))] };
      for (const [path, headers] of [
        ['/decode', {}],
        ['/decode', { authorization: 'Bearer not-the-codec-token-at-all' }],
        ['/not-the-codec-token-at-all/decode', {}],
      ] as const) {
        const res = await codec(path, { body, headers });
        assert.equal(res.status, 401, path);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
      const altered = payloadToJson(resultOf('deliverEmail'));
      altered.data = Buffer.from(
        Buffer.from(altered.data, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b)),
      ).toString('base64');
      const refused = await codec('/decode', { body: { payloads: [altered] }, headers: bearer });
      assert.equal(refused.status, 422);
      assert.match(((await refused.json()) as { detail: string }).detail, /failed authentication/);
      const notJson = await fetch(`${t.herald.apiUrl}/codec/decode`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'text/plain' },
        body: 'x',
      });
      assert.equal(notJson.status, 415);
    });

    it('answers the UI origin preflight with CORS headers, and gives another origin none', async () => {
      for (const origin of ['http://localhost:8233', 'http://127.0.0.1:8233']) {
        const preflight = await codec(`/${TEST_CODEC_TOKEN}/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace',
          },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
        assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
        assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
        for (const name of ['Authorization', 'Content-Type', 'X-Namespace'])
          assert.match(preflight.headers.get('access-control-allow-headers') ?? '', new RegExp(name));
        assert.match(preflight.headers.get('vary') ?? '', /Origin/);
        const res = await codec('/decode', { body: { payloads: [] }, headers: { ...bearer, origin } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('access-control-allow-origin'), origin);
      }
      const evil = { origin: 'http://evil.example', 'access-control-request-method': 'POST' };
      const preflight = await codec('/decode', { method: 'OPTIONS', headers: evil });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      assert.equal(preflight.headers.get('access-control-allow-headers'), null);
      const res = await codec('/decode', {
        body: { payloads: [] },
        headers: { ...bearer, origin: evil.origin },
      });
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });

    it('labels its metrics with the route pattern, never the token', async () => {
      const metrics = await (await fetch(t.herald.metricsUrl)).text();
      assert.match(metrics, /route="\/codec\/:token\/decode"/);
      assert.ok(!metrics.includes(TEST_CODEC_TOKEN));
    });
  });
});
