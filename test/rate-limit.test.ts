// The per-key token bucket over real HTTP: a fake caller from a header stands in for requireApiKey.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import express from 'express';
import { problemHandler } from '../src/api/problem.js';
import { rateLimitPerKey, type RateLimiter } from '../src/api/rate-limit.js';
import { createLogger } from '../src/platform/logger.js';

const PER_SECOND = 2;
const BURST = 3;

describe('rateLimitPerKey', () => {
  let clock = 0;
  let limiter: RateLimiter;
  let server: Server;
  let baseUrl: string;

  const get = (key: string) => fetch(`${baseUrl}/ping`, { headers: { 'x-test-key': key } });
  const statuses = async (key: string, count: number) => {
    const seen: number[] = [];
    for (let i = 0; i < count; i++) seen.push((await get(key)).status);
    return seen;
  };

  before(async () => {
    const app = express();
    app.use((req, _res, next) => {
      const key = req.header('x-test-key');
      if (key) req.caller = { keyId: key, name: `test ${key}` };
      next();
    });
    // Each test gets a fresh limiter behind the same server.
    app.use((req, res, next) => limiter(req, res, next));
    app.get('/ping', (_req, res) => {
      res.json({ ok: true });
    });
    // A bulk request: its arrival took one token, the route charges one more a recipient beyond it.
    app.get('/bulk', (req, res) => {
      limiter.charge(req, res, Number(req.header('x-recipients')) - 1);
      res.json({ ok: true });
    });
    app.use(problemHandler(createLogger('test', 'silent')));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    clock = 0;
    limiter = rateLimitPerKey({ perSecond: PER_SECOND, burst: BURST, now: () => clock });
  });

  it('allows a burst, then answers 429 problem+json with Retry-After', async () => {
    const first = await get('a');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-policy'), '"per-key";q=3;w=2');
    assert.equal(first.headers.get('ratelimit'), '"per-key";r=2;t=1');
    assert.deepEqual(await statuses('a', BURST - 1), [200, 200]);

    const refused = await get('a');
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('ratelimit'), '"per-key";r=0;t=2');
    const body = (await refused.json()) as { type: string; status: number; detail: string };
    assert.equal(body.type, 'https://herald.dev/problems/rate-limited');
    assert.equal(body.status, 429);
    assert.match(body.detail, /2 requests a second \(bursts of 3\)/);
  });

  it('keeps a separate bucket for each key', async () => {
    assert.deepEqual(await statuses('a', BURST + 1), [200, 200, 200, 429]);
    assert.deepEqual(await statuses('b', BURST + 1), [200, 200, 200, 429]);
    assert.equal(limiter.size(), 2);
  });

  it('refills tokens over time', async () => {
    assert.deepEqual(await statuses('a', BURST + 1), [200, 200, 200, 429]);
    clock += 499; // just short of one token at 2 a second
    assert.equal((await get('a')).status, 429);
    clock += 1;
    assert.deepEqual(await statuses('a', 2), [200, 429]);
    clock += 10_000; // refills to the burst, never beyond it
    assert.deepEqual(await statuses('a', BURST + 1), [200, 200, 200, 429]);
  });

  it('evicts buckets that have been idle long enough to be full again', async () => {
    await statuses('a', 2);
    await statuses('b', 1);
    assert.equal(limiter.size(), 2);
    clock += (BURST / PER_SECOND) * 1000;
    await get('c');
    assert.equal(limiter.size(), 1);
    // An evicted key starts again with a full bucket.
    assert.deepEqual(await statuses('a', BURST + 1), [200, 200, 200, 429]);
  });

  it('charges a bulk request a token per recipient, refusing it whole when too few are left', async () => {
    const bulk = (recipients: number) =>
      fetch(`${baseUrl}/bulk`, { headers: { 'x-test-key': 'a', 'x-recipients': String(recipients) } });
    assert.equal((await bulk(2)).status, 200);
    const refused = await bulk(2); // one token left after its arrival: not two
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(((await refused.json()) as { detail: string }).detail, /costs 2 tokens \(one a recipient\)/);
    clock += 10_000;
    // More recipients than the burst pass from a full bucket and leave the key in debt for the rest.
    assert.equal((await bulk(9)).status, 200);
    const after = await get('a');
    assert.equal(after.status, 429);
    assert.equal(after.headers.get('ratelimit'), '"per-key";r=0;t=5');
    assert.equal(after.headers.get('retry-after'), '4'); // 6 tokens owed + 1 to take, at 2 a second: 3.5 s
    clock += 3_499;
    assert.equal((await get('a')).status, 429);
    clock += 1;
    assert.equal((await get('a')).status, 200);
    // A bucket in debt is not evicted as if it were full.
    assert.equal(limiter.size(), 1);
  });

  it('fails loudly when mounted before authentication', async () => {
    const res = await fetch(`${baseUrl}/ping`);
    assert.equal(res.status, 500);
  });
});
