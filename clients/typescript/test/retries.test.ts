// @herald/client's retries against the real API: a 429 from the API's own rate limit is retried after
// its Retry-After; a 503 and a connection cut after the API accepted (from a small proxy in front of the
// real API) are retried with the same Idempotency-Key, so the notification is accepted exactly once.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHeraldClient, RateLimitedProblem, type RetryEvent } from '@herald/client';
import {
  startHerald,
  testEnv,
  TEST_API_KEY,
  uniqueId,
  type RunningStack,
} from '../../../test/support/stack.js';

type Fault = 'unavailable' | 'cut-after-forwarding';

/** Forwards to the API, except that it answers the next requests with the faults queued. */
async function startFaultyProxy(target: string) {
  const faults: Fault[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const fault = faults.shift();
      if (fault === 'unavailable') {
        res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
        res.end(
          JSON.stringify({
            type: 'https://herald.dev/problems/service-unavailable',
            title: 'Service unavailable',
            status: 503,
          }),
        );
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host',
        ),
      );
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(target + req.url, { method: req.method, headers, body }).then(
        async (answer) => {
          const text = await answer.text();
          // The API did the work; its answer is lost on the way back.
          if (fault === 'cut-after-forwarding') return req.socket.destroy();
          res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(text);
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('@herald/client retries', () => {
  let herald: RunningStack;
  let proxy: Awaited<ReturnType<typeof startFaultyProxy>>;
  before(async () => {
    // No workers: accepting is what is tested. One request a second, in bursts of one.
    herald = await startHerald(testEnv({ API_RATE_LIMIT: '1', API_RATE_BURST: '1' }), {
      queues: [],
      rateLimit: true,
    });
    proxy = await startFaultyProxy(herald.apiUrl);
  });
  after(async () => {
    await proxy?.close();
    await herald?.stop();
  });

  const client = (baseUrl: string, retries: RetryEvent[], retry = true) =>
    createHeraldClient({
      baseUrl,
      apiKey: TEST_API_KEY,
      retry: retry && { onRetry: (event) => retries.push(event) },
    });
  const sendAt = new Date(Date.now() + 3_600_000).toISOString();
  const notification = (userId: string) => ({ userId, category: 'billing', title: 't', body: 'b', sendAt });

  it('retries a 429 after the Retry-After the API sent, or throws RateLimitedProblem without retries', async () => {
    const retries: RetryEvent[] = [];
    const herald = client(proxy.url, retries);
    const user = await herald.users.create({ externalId: uniqueId('retry') });
    retries.length = 0;

    const started = Date.now();
    const [first, second] = await Promise.all([
      herald.notifications.send(notification(user.id)),
      herald.notifications.send(notification(user.id)),
    ]);
    assert.notEqual(first.id, second.id);
    assert.ok(retries.length >= 1, 'the second send waited for the bucket');
    assert.ok(retries.every((r) => r.status === 429 && r.delayMs >= 1000));
    assert.ok(Date.now() - started >= 900);

    const impatient = client(proxy.url, [], false);
    const refused = await Promise.all([
      impatient.notifications.send(notification(user.id)),
      impatient.notifications.send(notification(user.id)),
    ]).catch((e: unknown) => e);
    assert.ok(refused instanceof RateLimitedProblem, String(refused));
    assert.equal(refused.problem, 'rate-limited');
    assert.ok((refused.retryAfterSeconds ?? 0) >= 1);
  });

  it('retries a 503 and a lost answer with the same Idempotency-Key: one notification, accepted once', async () => {
    const retries: RetryEvent[] = [];
    const herald = client(proxy.url, retries);
    const user = await herald.users.create({ externalId: uniqueId('retry') });
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket again
    retries.length = 0;

    proxy.faults.push('unavailable', 'cut-after-forwarding');
    const sent = await herald.notifications.send(notification(user.id));
    assert.deepEqual(
      retries.map((r) => r.status ?? 'connection'),
      [503, 'connection', ...retries.slice(2).map(() => 429)],
    );
    assert.equal(retries[0]!.delayMs, 1000, 'the 503 asked for one second');

    const listed = [];
    for await (const n of herald.notifications.list({ userId: user.id })) listed.push(n.id);
    assert.deepEqual(listed, [sent.id], 'the lost answer was accepted once, and the retry returned it');
  });
});
