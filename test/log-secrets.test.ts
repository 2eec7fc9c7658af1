// Issue 15 item 5: no secret token from a path (preference, unsubscribe or codec token) or a query (the
// inbox stream's ?token=) reaches a log line or a Prometheus label, whatever the answer (matched route,
// 401, 404, 405). Requests go over a real
// connection to the API; its log lines are captured, and the metrics are scraped
// over HTTP from the metrics listener.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { TEST_CODEC_ENV } from './support/codec.js';
import { inboxEnv } from './support/inbox.js';
import { preferenceCenterEnv } from './support/preference-center.js';
import { TEST_API_KEY, eventually, startHerald, testEnv, type RunningStack } from './support/stack.js';

/** Shaped like a real link token (`<payload>.<43-char signature>`), and unique to this run. */
const secret = (kind: string) =>
  `${kind}Secret${randomBytes(6).toString('hex')}.${randomBytes(32).toString('base64url').slice(0, 43)}`;

describe('secret tokens in paths stay out of logs and metrics', () => {
  let herald: RunningStack;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    herald = await startHerald(testEnv({ ...TEST_CODEC_ENV, ...preferenceCenterEnv(), ...inboxEnv() }), {
      queues: [],
      logger: pino({ level: 'trace' }, sink),
    });
  });
  after(() => herald?.stop());

  it('logs the route pattern or `unmatched`, never the token, for every kind of answer', async () => {
    const tokens = {
      preferences: secret('pref'),
      unsubscribe: secret('unsub'),
      codec: secret('codec'),
      notFound: secret('nf'),
      notAllowed: secret('na'),
      inboxQuery: secret('inboxq'),
    };
    const requests: { path: string; init?: RequestInit; route: string; status?: number }[] = [
      { path: `/preferences/${tokens.preferences}`, route: '/preferences/:token' },
      { path: `/unsubscribe/${tokens.unsubscribe}`, route: '/unsubscribe/:token' },
      { path: `/unsubscribe/${tokens.unsubscribe}`, init: { method: 'POST' }, route: '/unsubscribe/:token' },
      {
        path: `/codec/${tokens.codec}/decode`,
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' },
        route: '/codec/:token/decode',
      },
      { path: `/nowhere/${tokens.notFound}`, route: 'unmatched', status: 404 },
      {
        path: `/v1/notifications/${tokens.notFound}/nothing`,
        init: { headers: { authorization: `Bearer ${TEST_API_KEY}` } },
        route: 'unmatched',
        status: 404,
      },
      {
        path: `/unsubscribe/${tokens.notAllowed}`,
        init: { method: 'DELETE' },
        route: 'unmatched',
        status: 405,
      },
    ];
    // A real inbox token, in the stream's query as EventSource sends it: answered 200 and logged when it ends.
    const user = await herald.api('/v1/users', {
      json: { externalId: `logs-${randomBytes(4).toString('hex')}` },
    });
    const { id } = (await user.json()) as { id: string };
    const issued = await herald.api(`/v1/users/${id}/inbox-token`, { method: 'POST' });
    const inboxToken = ((await issued.json()) as { token: string }).token;
    const streamed = `streamed-${randomBytes(4).toString('hex')}`;
    const abort = new AbortController();
    const stream = await fetch(`${herald.apiUrl}/inbox/v1/stream?token=${encodeURIComponent(inboxToken)}`, {
      headers: { 'x-request-id': streamed },
      signal: abort.signal,
    });
    assert.equal(stream.status, 200);
    abort.abort();
    await eventually(async () => lines.some((l) => l.includes(streamed)), {
      what: 'the stream to be logged',
    });
    assert.equal(JSON.parse(lines.find((l) => l.includes(streamed))!).route, '/inbox/v1/stream');
    // A made-up token is refused before routing, as an unknown API key is.
    requests.push({ path: `/inbox/v1/stream?token=${tokens.inboxQuery}`, route: 'unmatched', status: 401 });
    for (const { path, init, route, status } of requests) {
      const requestId = `secrets-${randomBytes(4).toString('hex')}`;
      const res = await fetch(herald.apiUrl + path, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), 'x-request-id': requestId },
      });
      await res.arrayBuffer();
      if (status !== undefined) assert.equal(res.status, status, path);
      // Written when the response closes, which may be a moment after the client has read it.
      const line = await eventually(
        async () =>
          lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === requestId),
        { what: `a request line for ${init?.method ?? 'GET'} ${path}`, timeoutMs: 5000 },
      );
      assert.equal(line.msg, 'request');
      assert.equal(line.route, route, `${init?.method ?? 'GET'} ${path}`);
      assert.equal(line.status, res.status);
    }

    const scraped = await (await fetch(herald.metricsUrl)).text();
    assert.match(scraped, /herald_http_request_duration_seconds_count\{[^}]*route="\/preferences\/:token"/);
    assert.match(scraped, /herald_http_request_duration_seconds_count\{[^}]*route="\/codec\/:token\/decode"/);
    assert.match(scraped, /herald_http_request_duration_seconds_count\{[^}]*route="unmatched",status="405"/);
    assert.match(scraped, /herald_http_request_duration_seconds_count\{[^}]*route="\/inbox\/v1\/stream"/);
    for (const token of [...Object.values(tokens), inboxToken]) {
      // The whole token, and its distinctive first part on its own.
      for (const needle of [token, token.split('.')[0]!]) {
        assert.ok(!lines.some((l) => l.includes(needle)), `a log line holds ${needle}`);
        assert.ok(!scraped.includes(needle), `a metrics line holds ${needle}`);
      }
    }
  });
});
