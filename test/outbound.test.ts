// Outbound requests to user-supplied URLs never reach private networks unless OUTBOUND_ALLOWED_HOSTS
// allows them: refused at registration (a literal address, in any spelling) and when connecting, after
// DNS resolution (a name that resolves to a private address).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import {
  FORBIDDEN_ADDRESS,
  createOutboundPolicy,
  isForbiddenAddress,
  normaliseAddress,
  type Resolver,
} from '../src/platform/outbound.js';
import { ConfigError } from '../src/platform/config.js';
import { createPushChannel } from '../src/activities/channels/push/index.js';
import { createDb } from '../src/store/db.js';
import { createLogger } from '../src/platform/logger.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { createBrowserSubscription } from '../tools/fakes/push-endpoint.js';
import { startWebhookReceiver, type WebhookReceiver } from '../tools/fakes/webhook-receiver.js';
import { eventually, startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

/** Names that resolve as the test says, without DNS. */
const fakeResolver =
  (names: Record<string, string[]>): Resolver =>
  (hostname) => {
    const addresses = names[hostname.toLowerCase()];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

const FORBIDDEN_URLS = [
  'http://169.254.169.254/',
  'http://169.254.169.254/latest/meta-data/',
  'http://10.0.0.1/',
  'http://192.168.1.1/',
  'http://172.16.0.9/',
  'http://172.31.255.255/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'http://100.64.0.1/',
  'http://127.0.0.1/',
  'http://127.1/',
  'http://2130706433/',
  'http://0x7f.1/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
  'http://[::1]/',
  'http://[::]/',
  'http://0/',
  'http://0.0.0.0/',
  'http://localhost/',
  'http://LOCALHOST./',
  'http://api.localhost:8080/',
  'https://10.1.2.3/',
  'https://172.16.0.9/',
];

describe('outbound policy', () => {
  const strict = createOutboundPolicy([]);
  after(() => strict.close());

  it('knows the forbidden ranges, IPv4-mapped IPv6 included, and lets public addresses through', () => {
    for (const ip of [
      '127.0.0.1',
      '10.255.0.1',
      '172.16.0.1',
      '172.31.0.1',
      '192.168.0.1',
      '100.64.0.1',
      '100.127.255.254',
      '169.254.169.254',
      '0.0.0.0',
      '::',
      '::1',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '[::ffff:127.0.0.1]',
    ])
      assert.equal(isForbiddenAddress(ip), true, ip);
    for (const ip of [
      '8.8.8.8',
      '172.32.0.1',
      '100.128.0.1',
      '93.184.216.34',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
    ])
      assert.equal(isForbiddenAddress(ip), false, ip);
    assert.equal(normaliseAddress('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(normaliseAddress('0:0:0:0:0:ffff:0a00:0001'), '10.0.0.1');
  });

  it('refuses every spelling of a private address at registration, and passes names', () => {
    for (const url of FORBIDDEN_URLS) assert.ok(strict.checkUrl(url), `${url} should be refused`);
    for (const url of ['https://hooks.example.com/herald', 'https://8.8.8.8/', 'https://[2606:4700::1111]/'])
      assert.equal(strict.checkUrl(url), undefined, url);
  });

  it('allows exceptions by host name, IP address and CIDR, and nothing else', () => {
    const policy = createOutboundPolicy(['sink.internal', '10.1.2.3', '192.168.0.0/16', 'fd00::/8']);
    try {
      assert.equal(policy.checkUrl('http://sink.internal:8080/hook'), undefined);
      assert.equal(policy.checkUrl('http://10.1.2.3/'), undefined);
      assert.equal(policy.checkUrl('http://[::ffff:10.1.2.3]/'), undefined);
      assert.equal(policy.checkUrl('http://192.168.44.5/'), undefined);
      assert.equal(policy.checkUrl('http://[fd00::1]/'), undefined);
      assert.ok(policy.checkUrl('http://10.1.2.4/'));
      assert.ok(policy.checkUrl('http://169.254.169.254/'));
      assert.ok(policy.checkUrl('http://localhost/'));
      // A listed name is allowed whatever it resolves to; a listed address however it is reached.
      assert.equal(policy.permits('sink.internal', '127.0.0.1'), true);
      assert.equal(policy.permits('other.test', '192.168.1.1'), true);
      assert.equal(policy.permits('other.test', '127.0.0.1'), false);
    } finally {
      policy.close();
    }
    const local = createOutboundPolicy(['localhost']);
    assert.equal(local.checkUrl('http://localhost:3000/'), undefined);
    local.close();
  });

  it('refuses a malformed OUTBOUND_ALLOWED_HOSTS, naming the variable', () => {
    assert.throws(
      () => testEnv({ OUTBOUND_ALLOWED_HOSTS: '10.0.0.0/99' }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.some((p) => p.variable === 'OUTBOUND_ALLOWED_HOSTS'),
    );
    assert.throws(() => testEnv({ OUTBOUND_ALLOWED_HOSTS: 'http://x/' }), ConfigError);
    assert.deepEqual(testEnv({ OUTBOUND_ALLOWED_HOSTS: 'a.test, 10.0.0.0/8' }).outbound.allowedHosts, [
      'a.test',
      '10.0.0.0/8',
    ]);
    assert.deepEqual(testEnv({ OUTBOUND_ALLOWED_HOSTS: '' }).outbound.allowedHosts, []);
  });

  it('refuses at connection time a name that resolves to a private address', async () => {
    const server = http.createServer((_req, res) => res.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    let requests = 0;
    server.on('request', () => requests++);
    const resolve = fakeResolver({
      'sink.internal.test': ['127.0.0.1'],
      'mixed.test': ['93.184.216.34', '10.0.0.1'],
      'allowed.test': ['127.0.0.1'],
    });
    const policy = createOutboundPolicy(['allowed.test'], { resolve });
    const get = (host: string) =>
      new Promise<number>((ok, fail) => {
        http
          .get(`http://${host}:${port}/`, { agent: policy.httpAgent }, (res) => {
            res.resume();
            ok(res.statusCode ?? 0);
          })
          .on('error', fail);
      });
    try {
      await assert.rejects(get('sink.internal.test'), { code: FORBIDDEN_ADDRESS });
      await assert.rejects(get('mixed.test'), { code: FORBIDDEN_ADDRESS });
      await assert.rejects(get('localhost'), { code: FORBIDDEN_ADDRESS });
      assert.equal(requests, 0);
      // The error names neither the host nor the address.
      await assert.rejects(get('sink.internal.test'), (error: Error) => {
        assert.doesNotMatch(error.message, /sink\.internal|127\.0\.0\.1/);
        return true;
      });
      // The same server through an allowed name.
      assert.equal(await get('allowed.test'), 200);
      assert.equal(requests, 1);
    } finally {
      policy.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('fails a push to an endpoint whose name resolves privately, permanently and without a host in the reason', async () => {
    const db = createDb(testEnv().databaseUrl);
    const policy = createOutboundPolicy([], {
      resolve: fakeResolver({ 'push.internal.test': ['10.9.8.7'] }),
    });
    const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@herald.test' };
    const push = createPushChannel({
      vapid,
      ttlSeconds: 60,
      db,
      logger: createLogger('t', 'silent'),
      outbound: policy,
    });
    try {
      for (const endpoint of ['https://push.internal.test/sub/1', 'https://10.1.2.3/sub/1']) {
        const { subscription } = createBrowserSubscription(endpoint);
        const recipient = {
          id: '00000000-0000-4000-8000-000000000000',
          locale: 'en',
          contacts: {},
          pushSubscriptions: [{ id: '00000000-0000-4000-8000-000000000001', endpoint, ...subscription.keys }],
        };
        const message = {
          notificationId: '00000000-0000-4000-8000-000000000002',
          category: 'billing',
          title: 't',
          body: 'b',
          data: {},
        };
        const error = await push.send(recipient as never, message as never).then(
          () => assert.fail('sent'),
          (e: unknown) => e,
        );
        const failure = push.classify(error);
        assert.equal(failure.permanent, true, endpoint);
        assert.match(failure.reason, new RegExp(FORBIDDEN_ADDRESS));
        assert.doesNotMatch(failure.reason, /internal|10\.\d/);
      }
    } finally {
      await push.close();
      policy.close();
      await db.$disconnect();
    }
  });
});

describe('outbound policy over the API', () => {
  let herald: RunningStack;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  const vapid = webpush.generateVAPIDKeys();

  before(async () => {
    smtp = await startSmtpSink();
    receiver = await startWebhookReceiver();
    const config = testEnv({
      // Something else is allowed: the test's names and addresses are not.
      OUTBOUND_ALLOWED_HOSTS: '198.51.100.0/24',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Herald <herald@example.test>',
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
    });
    // A name that resolves to this machine, as a rebinding attacker's would.
    const outbound = createOutboundPolicy(config.outbound.allowedHosts, {
      resolve: fakeResolver({ 'sink.internal.test': ['127.0.0.1'] }),
    });
    herald = await startHerald({ ...config, outbound });
  });
  after(async () => {
    if (herald) {
      await herald.db.webhookEndpoint.updateMany({
        where: { url: { contains: 'sink.internal.test' }, deletedAt: null },
        data: { deletedAt: new Date() },
      });
      herald.config.outbound.close();
      await herald.stop();
    }
    await receiver?.close();
    await smtp?.close();
  });

  async function webhookCount(): Promise<number> {
    const res = await herald.api('/v1/webhooks');
    return ((await res.json()) as { items: unknown[] }).items.length;
  }

  it('answers 422 to a webhook at a private address in any spelling, and stores nothing', async () => {
    const before = await webhookCount();
    for (const url of FORBIDDEN_URLS) {
      const res = await herald.api('/v1/webhooks', { json: { url } });
      assert.equal(res.status, 422, `${url}: ${await res.clone().text()}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const problem = (await res.json()) as { errors: { field: string; message: string }[] };
      assert.deepEqual(
        problem.errors.map((e) => e.field),
        ['url'],
      );
    }
    assert.equal(await webhookCount(), before);
  });

  it('answers 422 to a push subscription at a private address, and stores nothing', async () => {
    const user = (await (await herald.api('/v1/users', { json: { externalId: uniqueId() } })).json()) as {
      id: string;
    };
    for (const endpoint of [
      'https://10.1.2.3/push/1',
      'https://172.16.0.9/push/1',
      'https://[::ffff:a9fe:a9fe]/',
    ]) {
      const res = await herald.api(`/v1/users/${user.id}/push-subscriptions`, {
        json: createBrowserSubscription(endpoint).subscription,
      });
      assert.equal(res.status, 422, `${endpoint}: ${await res.clone().text()}`);
      const problem = (await res.json()) as { errors: { field: string }[] };
      assert.deepEqual(
        problem.errors.map((e) => e.field),
        ['endpoint'],
      );
    }
    assert.equal(await herald.db.pushSubscription.count({ where: { userId: user.id } }), 0);
  });

  it('keeps at most 10 active push subscriptions per user, retiring the oldest', async () => {
    const user = (await (await herald.api('/v1/users', { json: { externalId: uniqueId() } })).json()) as {
      id: string;
    };
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await herald.api(`/v1/users/${user.id}/push-subscriptions`, {
        json: createBrowserSubscription(`https://push.example.test/${uniqueId('sub')}`).subscription,
      });
      assert.equal(res.status, 201, await res.clone().text());
      ids.push(((await res.json()) as { id: string }).id);
    }
    const rows = await herald.db.pushSubscription.findMany({ where: { userId: user.id } });
    const active = new Set(rows.filter((r) => r.active).map((r) => r.id));
    assert.equal(active.size, 10);
    assert.deepEqual(
      ids.filter((id) => !active.has(id)),
      ids.slice(0, 2),
    );
  });

  it('refuses at connection time a webhook whose name resolves to a private address', async () => {
    const url = receiver.url.replace('127.0.0.1', 'sink.internal.test');
    const created = await herald.api('/v1/webhooks', { json: { url: `${url}/hook` } });
    assert.equal(created.status, 201, await created.clone().text());
    const endpoint = (await created.json()) as { id: string };
    const email = `${uniqueId('ssrf')}@example.test`;
    const user = (await (
      await herald.api('/v1/users', { json: { externalId: uniqueId(), email } })
    ).json()) as {
      id: string;
    };
    const sent = await herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'billing', title: 'a', body: 'b', channels: ['email'] },
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    const record = await eventually(
      () => herald.db.webhookDelivery.findFirst({ where: { endpointId: endpoint.id, status: 'failed' } }),
      { what: 'the webhook to fail', timeoutMs: 20_000 },
    );
    // Failed at the first attempt: retrying reaches the same address.
    assert.equal(record.attempts, 1);
    assert.equal(record.responseStatus, null);
    assert.match(record.lastError ?? '', new RegExp(FORBIDDEN_ADDRESS));
    assert.doesNotMatch(record.lastError ?? '', /sink\.internal|127\.0\.0\.1/);
    assert.equal(receiver.received.length, 0);
    const detail = (await (await herald.api(`/v1/webhooks/${endpoint.id}`)).json()) as {
      recentDeliveries: { status: string; lastError: string }[];
    };
    assert.equal(detail.recentDeliveries[0]?.status, 'failed');
  });
});
