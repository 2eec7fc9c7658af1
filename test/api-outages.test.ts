// When what the API depends on is down: readiness says which part, and a notification whose workflow
// cannot be started now is still accepted, recorded for the reconciler (test/reconciler.test.ts).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../src/api/app.js';
import { createDb, type Db } from '../src/store/db.js';
import { createLogger } from '../src/platform/logger.js';
import { freePort } from '../tools/local-stack/ports.js';
import { TEST_API_KEY, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('API during outages', () => {
  let herald: RunningStack;
  let deadTemporal: Client;
  let deadDb: Db;
  const servers: Server[] = [];

  before(async () => {
    herald = await startHerald(testEnv(), { queues: [], api: false });
    // Nothing listens on these ports: every call fails as it would with the service down.
    const deadAddress = `127.0.0.1:${await freePort()}`;
    deadTemporal = new Client({ connection: Connection.lazy({ address: deadAddress, connectTimeout: 500 }) });
    const deadDbUrl = new URL(herald.config.databaseUrl);
    deadDbUrl.port = String(await freePort());
    deadDb = createDb(deadDbUrl.toString());
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await deadDb?.$disconnect().catch(() => undefined);
    await herald?.stop();
  });

  async function serve(db: Db, temporal: Client): Promise<string> {
    const app = createApp({ db, temporal, logger: createLogger('test', 'silent'), apiKeys: [TEST_API_KEY] });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const authorized = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };

  it('reports Temporal unreachable on /readyz with 503, while /healthz stays up', async () => {
    const url = await serve(herald.db, deadTemporal);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'not ready', database: 'ok', temporal: 'unreachable' });
  });

  it('reports the database unreachable on /readyz with 503', async () => {
    const url = await serve(deadDb, herald.temporal);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'not ready', database: 'unreachable', temporal: 'ok' });
  });

  it('accepts a notification it cannot start yet: 202, recorded as accepted for the reconciler', async () => {
    const url = await serve(herald.db, deadTemporal);
    const user = (await (
      await fetch(`${url}/v1/users`, {
        method: 'POST',
        headers: authorized,
        body: JSON.stringify({ externalId: uniqueId(), email: `${uniqueId()}@example.test` }),
      })
    ).json()) as { id: string };
    const res = await fetch(`${url}/v1/notifications`, {
      method: 'POST',
      headers: { ...authorized, 'idempotency-key': uniqueId('outage') },
      body: JSON.stringify({ userId: user.id, category: 'ops', title: 'Down', body: 'Temporal is down' }),
    });
    // The start may have happened (a deadline, a reset): a refusal would invite a second notification.
    assert.equal(res.status, 202);
    const accepted = (await res.json()) as { id: string; status: string };
    assert.equal(accepted.status, 'accepted');
    const row = await herald.db.notification.findUniqueOrThrow({ where: { id: accepted.id } });
    assert.equal(row.status, 'accepted');

    // Left for no reconciler to find: this file's rows are not another file's business.
    await herald.db.notification.update({ where: { id: accepted.id }, data: { status: 'cancelled' } });
  });

  it('answers 503 to cancel and retry when no worker runs the workflow, instead of hanging', async () => {
    const url = await serve(herald.db, herald.temporal);
    const user = (await (
      await fetch(`${url}/v1/users`, {
        method: 'POST',
        headers: authorized,
        body: JSON.stringify({ externalId: uniqueId(), email: `${uniqueId()}@example.test` }),
      })
    ).json()) as { id: string };
    // Accepted and started, but this stack runs no worker: the workflow never runs a task.
    const accepted = (await (
      await fetch(`${url}/v1/notifications`, {
        method: 'POST',
        headers: authorized,
        body: JSON.stringify({ userId: user.id, category: 'ops', title: 'Stuck', body: 'No worker' }),
      })
    ).json()) as { id: string; workflowId: string };
    try {
      for (const action of ['cancel', 'retry']) {
        const res = await fetch(`${url}/v1/notifications/${accepted.id}/${action}`, {
          method: 'POST',
          headers: { authorization: authorized.authorization },
        });
        assert.equal(res.status, 503, action);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.match(((await res.json()) as { detail: string }).detail, /did not answer in time/);
      }
    } finally {
      await herald.temporal.workflow.getHandle(accepted.workflowId).terminate('test over');
    }
  });

  it('answers 500 as problem+json without internals when the database fails mid-request', async () => {
    const url = await serve(deadDb, herald.temporal);
    const res = await fetch(`${url}/v1/users/${uniqueId()}`, { headers: authorized });
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((JSON.parse(body) as { type: string }).type, 'https://herald.dev/problems/internal-error');
    assert.doesNotMatch(body, /ECONNREFUSED|Prisma|postgres|at .*\.ts:\d+/i);
  });
});
