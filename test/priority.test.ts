// Priority and fairness on a real dev server started with Herald's dynamic config
// (tools/local-stack/temporal-server.ts): deliveries queue on the email task queue while no email worker
// runs, then one worker with a single activity slot takes them, and the SMTP sink sees the order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import { PRIORITY_DYNAMIC_CONFIG } from '../tools/local-stack/temporal-server.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import {
  eventually,
  startHerald,
  testEnv,
  uniqueId,
  TEST_API_KEY,
  type RunningStack,
} from './support/stack.js';

/** A second caller: its notifications get their own fairness key (its API key's id). */
const OTHER_API_KEY = 'test-key-other-0123456789abcdef';

describe('priority and fairness on the channel queues', () => {
  let smtp: SmtpSink;
  let herald: RunningStack;
  const env = () =>
    testEnv({
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Herald <herald@example.test>',
      API_KEYS: `${TEST_API_KEY},${OTHER_API_KEY}`,
      CATEGORY_PRIORITIES: 'security:high,marketing:low',
    });

  before(async () => {
    smtp = await startSmtpSink();
    // The API and the notifications worker only: deliveries wait on the email queue until a test serves it.
    herald = await startHerald(env(), { queues: ['notifications'] });
  });
  after(async () => {
    await herald?.stop();
    await smtp?.close();
  });

  async function createUser(label: string) {
    const email = `${label}-${uniqueId()}@example.test`.toLowerCase();
    const user = await herald.api('/v1/users', { json: { externalId: uniqueId(), email } });
    assert.equal(user.status, 201, await user.clone().text());
    const { id: userId } = (await user.json()) as { id: string };
    return { userId, email };
  }

  const priorityOf = async (id: string) =>
    ((await (await herald.api(`/v1/notifications/${id}`)).json()) as { priority: string }).priority;

  /** Sends one email notification as the given caller; its address tells the sink which it was. */
  async function send(label: string, fields: Record<string, unknown>, apiKey = TEST_API_KEY) {
    const { userId, email } = await createUser(label);
    const res = await fetch(`${herald.apiUrl}/v1/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, category: 'updates', title: label, body: 'Order test', ...fields }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id, workflowId } = (await res.json()) as { id: string; workflowId: string };
    return { id, workflowId, email };
  }

  /** Waits until each notification's delivery activity is scheduled, so it stands in the email queue. */
  async function queued(sent: { workflowId: string }[]) {
    for (const { workflowId } of sent)
      await eventually(
        async () => {
          const described = await herald.temporal.workflow.getHandle(workflowId).describe();
          return (described.raw.pendingActivities?.length ?? 0) > 0;
        },
        { what: `${workflowId}'s delivery to be scheduled`, timeoutMs: 30_000 },
      );
  }

  /** Serves the email queue with one activity slot until every address got its email; the arrival order. */
  async function drain(emails: string[]): Promise<string[]> {
    const start = smtp.messages.length;
    const worker = await startHerald(
      testEnv({
        SMTP_URL: smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        WORKER_ACTIVITY_CONCURRENCY: '1',
      }),
      { queues: ['email'], api: false },
    );
    try {
      const wanted = new Set(emails);
      await eventually(
        async () =>
          smtp.messages.slice(start).filter((m) => wanted.has(m.envelopeTo[0]!)).length === emails.length,
        { what: `${emails.length} emails`, timeoutMs: 120_000, intervalMs: 200 },
      );
    } finally {
      await worker.stop();
    }
    return smtp.messages
      .slice(start)
      .map((m) => m.envelopeTo[0]!)
      .filter((to) => emails.includes(to));
  }

  it('shows the priority, with the category default and the bulk default', async () => {
    const urgent = await send('shown', { priority: 'high' });
    assert.equal(await priorityOf(urgent.id), 'high');
    const plain = await send('plain', {});
    assert.equal(await priorityOf(plain.id), 'normal');
    // CATEGORY_PRIORITIES gives security high and marketing low; the request's own word wins.
    const security = await send('security', { category: 'security' });
    assert.equal(await priorityOf(security.id), 'high');
    const marketing = await send('marketing', { category: 'marketing' });
    assert.equal(await priorityOf(marketing.id), 'low');
    const raised = await send('raised', { category: 'marketing', priority: 'normal' });
    assert.equal(await priorityOf(raised.id), 'normal');
    // A bulk request is a campaign: low, whatever its category, unless it says otherwise.
    const recipients = [await createUser('bulk'), await createUser('bulk')];
    const bulk = async (fields: Record<string, unknown>) => {
      const res = await herald.api('/v1/notifications/bulk', {
        json: { recipients: [recipients.shift()!.userId], title: 'Bulk', body: 'Order test', ...fields },
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { results: { id: string }[] }).results[0]!.id;
    };
    const bulkEmails = recipients.map((r) => r.email);
    assert.equal(await priorityOf(await bulk({ category: 'security' })), 'low');
    assert.equal(await priorityOf(await bulk({ category: 'security', priority: 'high' })), 'high');
    const bad = await herald.api('/v1/notifications', {
      json: { userId: 'nobody', category: 'updates', title: 'x', body: 'y', priority: 'urgent' },
    });
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /priority/);
    await drain([urgent, plain, security, marketing, raised].map((n) => n.email).concat(bulkEmails));
  });

  it('delivers a high-priority notification before 20 low ones queued earlier', async () => {
    const low = [];
    for (let i = 0; i < 20; i++) low.push(await send(`low${i}`, { priority: 'low' }));
    await queued(low);
    const high = await send('high', { priority: 'high' });
    await queued([high]);

    const order = await drain([...low.map((n) => n.email), high.email]);
    const position = order.indexOf(high.email) + 1;
    console.log(`the high-priority email arrived ${position} of ${order.length}`);
    // One slot: the worker may hold one low task already when the queue is first polled.
    assert.ok(position <= 2, `the high-priority email came ${position} of ${order.length}`);
  });

  it("runs high priority on the urgent queues' own workers, and the rest where it always ran", async () => {
    const high = await send('lane-high', { priority: 'high' });
    const normal = await send('lane-normal', {});
    const low = await send('lane-low', { priority: 'low' });
    await queued([high, normal, low]);
    /** The workflow's own task queue and its delivery's, from its history. */
    const queuesOf = async (workflowId: string) => {
      const history = await herald.temporal.workflow.getHandle(workflowId).fetchHistory();
      const events = history.events ?? [];
      return [
        events[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name,
        events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes
          ?.taskQueue?.name,
      ];
    };
    assert.deepEqual(await queuesOf(high.workflowId), ['notifications-urgent', 'email-urgent']);
    assert.deepEqual(await queuesOf(normal.workflowId), ['notifications', 'email']);
    assert.deepEqual(await queuesOf(low.workflowId), ['notifications', 'email']);
    // A worker that serves `email` serves its urgent twin: every one is delivered.
    await drain([high, normal, low].map((n) => n.email));
  });

  it("keeps one caller's flood from starving another caller's notifications", async () => {
    const flood = [];
    for (let i = 0; i < 50; i++) flood.push(await send(`flood${i}`, {}));
    await queued(flood);
    const other = [];
    for (let i = 0; i < 5; i++) other.push(await send(`other${i}`, {}, OTHER_API_KEY));
    await queued(other);

    const order = await drain([...flood.map((n) => n.email), ...other.map((n) => n.email)]);
    const positions = other.map((n) => order.indexOf(n.email) + 1).sort((a, b) => a - b);
    console.log(`the other caller's 5 arrived at ${positions.join(', ')} of ${order.length}`);
    // First in, first out would put them at 51 to 55; fair dispatch alternates between the two keys.
    assert.ok(positions.at(-1)! <= 20, `the other caller's emails came at ${positions.join(', ')}`);
  });

  it('runs every local server with the settings compose gives Temporal', () => {
    // PyYAML, as test/support/compose.ts reads compose's own YAML.
    const read = spawnSync(
      'python3',
      [
        '-c',
        'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)',
        'herald.yaml',
      ],
      { cwd: `${projectRoot}/deploy/temporal/dynamicconfig`, encoding: 'utf8' },
    );
    assert.equal(read.status, 0, read.stderr);
    const file = JSON.parse(read.stdout) as Record<string, { value: unknown }[]>;
    for (const [key, value] of Object.entries(PRIORITY_DYNAMIC_CONFIG))
      assert.deepEqual(file[key]?.[0]?.value, value, key);
  });
});
