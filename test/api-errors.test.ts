// Every refusal is application/problem+json with a stable type, and a refused request changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('API errors', () => {
  let herald: RunningStack;
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [] });
  });
  after(async () => {
    await herald?.stop();
  });

  async function expectProblem(res: Response, status: number, type: string) {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await res.json()) as {
      type: string;
      title: string;
      status: number;
      detail?: string;
      errors?: unknown;
    };
    assert.equal(body.type, `https://herald.dev/problems/${type}`);
    assert.equal(body.status, status);
    assert.ok(body.title);
    assert.doesNotMatch(JSON.stringify(body), /at .*\.ts:\d+|Prisma|stack/i);
    return body;
  }

  const counts = async () => ({
    users: await herald.db.user.count(),
    notifications: await herald.db.notification.count(),
  });

  it('answers health and readiness without a key', async () => {
    assert.equal((await fetch(`${herald.apiUrl}/healthz`)).status, 200);
    const ready = await fetch(`${herald.apiUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', database: 'ok', temporal: 'ok' });
  });

  it('serves the OpenAPI document and browsable docs', async () => {
    const spec = (await (await fetch(`${herald.apiUrl}/openapi.json`)).json()) as {
      openapi: string;
      paths: object;
    };
    assert.equal(spec.openapi, '3.1.0');
    assert.ok('/v1/notifications' in spec.paths);
    const docs = await fetch(`${herald.apiUrl}/docs`);
    assert.match(await docs.text(), /Herald API/);
  });

  it('answers 405 with Allow for a method a route does not take, and 404 for an unknown path', async () => {
    const before = await counts();
    const put = await herald.api('/v1/notifications', { method: 'PUT', json: {} });
    const problem = await expectProblem(put, 405, 'method-not-allowed');
    assert.equal(put.headers.get('allow'), 'GET, POST, HEAD');
    assert.match(problem.detail ?? '', /PUT is not allowed/);
    const patch = await herald.api(`/v1/notifications/${crypto.randomUUID()}`, { method: 'PATCH', json: {} });
    await expectProblem(patch, 405, 'method-not-allowed');
    assert.equal(patch.headers.get('allow'), 'GET, HEAD');
    await expectProblem(await herald.api('/v1/nothing-here'), 404, 'not-found');
    // Health is outside /v1 and needs no key; a wrong method there is still 405.
    await expectProblem(
      await fetch(`${herald.apiUrl}/healthz`, { method: 'DELETE' }),
      405,
      'method-not-allowed',
    );
    assert.deepEqual(await counts(), before);
  });

  it('answers OPTIONS with the methods the path itself takes, and leaves CORS preflights to their routes', async () => {
    // Express would list /v1/notifications/:id's GET for /v1/notifications/bulk, which takes only POST.
    const bulk = await herald.api('/v1/notifications/bulk', { method: 'OPTIONS' });
    assert.equal(bulk.status, 204);
    assert.equal(bulk.headers.get('allow'), 'POST, OPTIONS');
    const one = await herald.api(`/v1/notifications/${crypto.randomUUID()}`, { method: 'OPTIONS' });
    assert.equal(one.headers.get('allow'), 'GET, HEAD, OPTIONS');
    const health = await fetch(`${herald.apiUrl}/healthz`, { method: 'OPTIONS' });
    assert.equal(health.headers.get('allow'), 'GET, HEAD, OPTIONS');
    // A preflight is not answered here: no route of /v1 takes cross-origin calls, so Express answers it.
    const preflight = await fetch(`${herald.apiUrl}/v1/notifications/bulk`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  it('refuses a missing or wrong API key with 401', async () => {
    await expectProblem(await fetch(`${herald.apiUrl}/v1/users/x`), 401, 'unauthorized');
    const wrong = await herald.api('/v1/users/x', { headers: { authorization: 'Bearer nope' } });
    await expectProblem(wrong, 401, 'unauthorized');
  });

  it('refuses malformed JSON (400), a wrong content type (415) and an oversized body (413)', async () => {
    const before = await counts();
    const malformed = await herald.api('/v1/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"externalId":',
    });
    await expectProblem(malformed, 400, 'malformed-json');
    const form = await herald.api('/v1/users', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'externalId=x',
    });
    await expectProblem(form, 415, 'unsupported-media-type');
    const huge = await herald.api('/v1/users', { json: { externalId: 'x'.repeat(300 * 1024) } });
    await expectProblem(huge, 413, 'payload-too-large');
    assert.deepEqual(await counts(), before);
  });

  it('lists every invalid field (422) and stores nothing', async () => {
    const before = await counts();
    const res = await herald.api('/v1/users', {
      json: { externalId: '', email: 'not-an-email', phone: '12345', timezone: 'Mars/Olympus', extra: 1 },
    });
    const body = await expectProblem(res, 422, 'validation-error');
    const fields = (body.errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual(fields, ['(body)', 'email', 'externalId', 'phone', 'timezone']);
    assert.deepEqual(await counts(), before);
  });

  it('refuses a notification for an unknown user (422) and a bad notification id (422/404)', async () => {
    const before = await counts();
    const res = await herald.api('/v1/notifications', {
      json: { userId: uniqueId('ghost'), category: 'billing', title: 't', body: 'b' },
    });
    await expectProblem(res, 422, 'unknown-user');
    await expectProblem(await herald.api('/v1/notifications/not-a-uuid'), 422, 'validation-error');
    await expectProblem(
      await herald.api('/v1/notifications/00000000-0000-4000-8000-000000000000'),
      404,
      'not-found',
    );
    assert.deepEqual(await counts(), before);
  });

  it('refuses a duplicate externalId with 409', async () => {
    const externalId = uniqueId();
    assert.equal((await herald.api('/v1/users', { json: { externalId } })).status, 201);
    await expectProblem(await herald.api('/v1/users', { json: { externalId } }), 409, 'user-exists');
  });

  it('answers unknown routes with a problem 404', async () => {
    await expectProblem(await herald.api('/v1/nothing-here'), 404, 'not-found');
  });
});
