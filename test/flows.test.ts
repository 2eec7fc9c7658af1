// Flows end to end (docs/flows.md): stored through the API, run by the notification workflow on the real
// Temporal dev server with real timers of a few seconds, delivered to the SMTP sink and the Telegram fake.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engagementSignal, workflowIdFor, type WorkflowStatus } from '../src/workflows/definitions.js';
import { useFlowStack } from './support/flow-stack.js';
import { recordHistory } from './support/histories.js';
import { eventually, uniqueId } from './support/stack.js';

describe('notification flows', () => {
  const { stack, putFlow, notify, view, settled, mailsTo, flowUser, createUser } = useFlowStack();
  const escalation = {
    steps: [
      { type: 'send', channels: ['telegram'], ack: true },
      { type: 'wait', until: 'acknowledged', timeout: '5s' },
      { type: 'send', channels: ['email'] },
    ],
  };

  describe('escalation: send telegram (ack), wait acknowledged 5s, send email', () => {
    it('sends the email after the timeout when nobody acknowledges', async () => {
      const key = uniqueId('escalate');
      assert.equal((await putFlow(key, escalation)).status, 201);
      const user = await flowUser();
      const started = Date.now();
      const { id } = await notify({ userId: user.id, flow: key });
      await stack.telegram.waitFor((m) => m.chatId === user.chat);
      // The status query and FlowStep show the wait.
      const handle = stack.herald.temporal.workflow.getHandle(workflowIdFor(id));
      const waiting = await eventually(async () => {
        const s = await handle.query<WorkflowStatus>('status');
        return s.flowStep?.type === 'wait' && s;
      });
      assert.deepEqual(waiting.flowStep, { path: '1', type: 'wait' });
      assert.equal(waiting.state, 'waiting');
      const described = await eventually(async () => {
        const d = await handle.describe();
        return d.searchAttributes.FlowStep?.[0] === '1 wait' && d;
      });
      assert.ok(described);
      assert.equal(mailsTo(user.email).length, 0, 'no email before the timeout');

      const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 15_000);
      assert.ok(mail.at - started >= 5_000, `the email came ${mail.at - started} ms after the request`);
      const done = await settled(id, 'sent');
      assert.deepEqual(
        done.flowSteps.map((s) => [s.path, s.type, s.outcome]),
        [
          ['0', 'send', 'sent'],
          ['1', 'wait', 'timed_out'],
          ['2', 'send', 'sent'],
        ],
      );
      assert.equal((await handle.describe()).searchAttributes.FlowStep?.[0], 'done');
      await recordHistory(handle, 'flow-escalation-timed-out');
    });

    it('sends no email when the telegram message is acknowledged in time', async () => {
      const key = uniqueId('escalate');
      await putFlow(key, escalation);
      const user = await flowUser();
      const { id } = await notify({ userId: user.id, flow: key });
      await stack.telegram.waitFor((m) => m.chatId === user.chat);
      const handle = stack.herald.temporal.workflow.getHandle(workflowIdFor(id));
      await eventually(async () => (await handle.query<WorkflowStatus>('status')).flowStep?.type === 'wait');
      await handle.signal(engagementSignal, {
        kind: 'acknowledged',
        channel: 'telegram',
        at: new Date().toISOString(),
      });
      const done = await settled(id, 'sent');
      assert.deepEqual(
        done.flowSteps.map((s) => [s.type, s.outcome]),
        [
          ['send', 'sent'],
          ['wait', 'acknowledged'],
        ],
      );
      await new Promise((r) => setTimeout(r, 5_500));
      assert.equal(mailsTo(user.email).length, 0, 'the acknowledgement stopped the escalation');
      assert.deepEqual(
        done.deliveries.map((d) => d.channel),
        ['telegram'],
      );
      await recordHistory(handle, 'flow-escalation-acknowledged');
    });
  });

  it('keeps running notifications on the version they started with', async () => {
    const key = uniqueId('versioned');
    await putFlow(key, {
      steps: [
        { type: 'delay', duration: '3s' },
        { type: 'send', channels: ['email'], title: 'Version one', body: 'v1' },
      ],
    });
    const user = await flowUser();
    const { id } = await notify({ userId: user.id, flow: key });
    const v2 = await putFlow(key, {
      steps: [{ type: 'send', channels: ['telegram'], title: 'Version two', body: 'v2' }],
    });
    assert.equal(v2.status, 201);
    assert.equal(v2.body.currentVersion, 2);
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(user.email), 15_000);
    assert.equal(mail.parsed.subject, 'Version one');
    const done = await settled(id, 'sent');
    assert.deepEqual(done.flow, { key, version: 1 });
    // A later notification pins version 2.
    const second = await notify({ userId: user.id, flow: key });
    await stack.telegram.waitFor((m) => m.chatId === user.chat && m.text.includes('Version two'));
    await settled(second.id, 'sent');
    assert.deepEqual((await view(second.id)).flow, { key, version: 2 });
  });

  describe('storage and validation', () => {
    it('stores versions, returns the current one for identical steps, lists and deletes', async () => {
      const key = uniqueId('store');
      const steps = [{ type: 'send', channels: ['email'] }];
      const first = await putFlow(key, { name: 'Store', steps });
      assert.equal(first.status, 201);
      const again = await putFlow(key, { steps });
      assert.equal(again.status, 200);
      assert.equal(again.body.currentVersion, 1);
      const list = (await (await stack.herald.api('/v1/flows')).json()) as { items: { key: string }[] };
      assert.ok(list.items.some((f) => f.key === key));
      const got = (await (await stack.herald.api(`/v1/flows/${key}`)).json()) as {
        versions: unknown[];
        name: string;
      };
      assert.equal(got.versions.length, 1);
      assert.equal(got.name, 'Store');
      assert.equal((await stack.herald.api(`/v1/flows/${key}`, { method: 'DELETE' })).status, 204);
      assert.equal((await stack.herald.api(`/v1/flows/${key}`)).status, 404);
      const user = await createUser({ email: `${uniqueId()}@example.test` });
      const res = await stack.herald.api('/v1/notifications', {
        json: { userId: user.id, category: 'updates', title: 't', body: 'b', flow: key },
      });
      assert.equal(res.status, 422);
    });

    it('answers 422 listing every problem with its JSON path, and stores nothing', async () => {
      const key = uniqueId('invalid');
      const res = await stack.herald.api(`/v1/flows/${key}`, {
        method: 'PUT',
        json: {
          steps: [
            { type: 'teleport' },
            { type: 'delay', duration: '5 minutes' },
            { type: 'send', channels: ['pigeon'] },
            { type: 'send', channels: ['email'] },
            { type: 'branch', branches: [] },
            {
              type: 'branch',
              branches: [
                { if: { data: 'plan', equals: 'pro' }, steps: [{ type: 'send', channels: ['email'] }] },
              ],
            },
          ],
        },
      });
      assert.equal(res.status, 422);
      const problem = (await res.json()) as { errors: { field: string; message: string }[] };
      const fields = problem.errors.map((e) => e.field);
      for (const field of ['steps.0.type', 'steps.1.duration', 'steps.2.channels.0', 'steps.4.branches'])
        assert.ok(fields.includes(field), `${field} in ${JSON.stringify(problem.errors)}`);
      assert.equal((await stack.herald.api(`/v1/flows/${key}`)).status, 404);

      const twice = await stack.herald.api(`/v1/flows/${key}`, {
        method: 'PUT',
        json: {
          steps: [
            { type: 'send', channels: ['email'] },
            {
              type: 'branch',
              branches: [
                { if: { data: 'plan', equals: 'pro' }, steps: [{ type: 'send', channels: ['email'] }] },
              ],
            },
          ],
        },
      });
      assert.equal(twice.status, 422);
      const dup = (await twice.json()) as { errors: { field: string; message: string }[] };
      assert.deepEqual(
        dup.errors.map((e) => e.field),
        ['steps.1.branches.0.steps.0.channels'],
      );
      assert.match(dup.errors[0]!.message, /unique per notification and channel/);

      const deep = (n: number): unknown =>
        n === 0
          ? [{ type: 'send', channels: ['email'] }]
          : [{ type: 'branch', branches: [{ if: { previous: true, equals: 'sent' }, steps: deep(n - 1) }] }];
      const tooDeep = await stack.herald.api(`/v1/flows/${key}`, { method: 'PUT', json: { steps: deep(6) } });
      assert.equal(tooDeep.status, 422);
      const unknownTemplate = await stack.herald.api(`/v1/flows/${key}`, {
        method: 'PUT',
        json: { steps: [{ type: 'send', channels: ['email'], template: 'no-such-template' }] },
      });
      assert.equal(unknownTemplate.status, 422);
      assert.deepEqual(
        ((await unknownTemplate.json()) as { errors: { field: string }[] }).errors.map((e) => e.field),
        ['steps.0.template'],
      );
    });

    it('refuses a notification without content when the flow brings none, and flow with channels', async () => {
      const key = uniqueId('bare');
      await putFlow(key, { steps: [{ type: 'send', channels: ['email'] }] });
      const user = await createUser({ email: `${uniqueId()}@example.test` });
      const bare = await stack.herald.api('/v1/notifications', {
        json: { userId: user.id, category: 'updates', flow: key },
      });
      assert.equal(bare.status, 422);
      const both = await stack.herald.api('/v1/notifications', {
        json: { userId: user.id, category: 'updates', flow: key, channels: ['email'], title: 't', body: 'b' },
      });
      assert.equal(both.status, 422);
    });
  });
});
