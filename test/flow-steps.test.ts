// A flow's throttle and branch steps, and cancellation keys stopping delays, waits and digests
// (docs/flows.md), on the real dev server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useFlowStack } from './support/flow-stack.js';
import { recordHistory } from './support/histories.js';
import { eventually, uniqueId } from './support/stack.js';
import { statusQuery, workflowIdFor } from '../src/workflows/definitions.js';

describe('flow steps', () => {
  const { stack, putFlow, notify, view, settled, mailsTo, flowUser, createUser } = useFlowStack();
  const flow = async (steps: unknown[]) => {
    const key = uniqueId('steps');
    const res = await putFlow(key, { steps });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return key;
  };
  const cancelByKey = async (cancellationKey: string) => {
    const res = await stack.herald.api('/v1/notifications/cancel', { json: { cancellationKey } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { cancelled: number; withdrawnFromDigests: number };
  };

  it('throttles to N per window per (user, flow, key): the excess is skipped and recorded', async () => {
    const key = await flow([
      { type: 'throttle', limit: 2, window: '1m', key: 'thread' },
      { type: 'send', channels: ['email'] },
    ]);
    const user = await flowUser();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await notify({ userId: user.id, flow: key, data: { thread: 't1' } })).id);
    const other = await notify({ userId: user.id, flow: key, data: { thread: 't2' } });
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const v = await eventually(async () => {
          const seen = await view(id);
          return ['sent', 'skipped'].includes(seen.status) && seen;
        });
        return v.status;
      }),
    );
    // Whichever reached the throttle first passed.
    assert.deepEqual([...outcomes].sort(), ['sent', 'sent', 'skipped', 'skipped']);
    const throttled = await view(ids[outcomes.indexOf('skipped')]!);
    assert.deepEqual(
      throttled.flowSteps.map((s) => [s.type, s.outcome]),
      [['throttle', 'throttled']],
    );
    await settled(other.id, 'sent');
    assert.equal(mailsTo(user.email).length, 3);
    await recordHistory(
      stack.herald.temporal.workflow.getHandle(workflowIdFor(ids[outcomes.indexOf('skipped')]!)),
      'flow-throttled',
    );
  });

  it('branches on the user, on data and on the previous step', async () => {
    const key = await flow([
      { type: 'send', channels: ['telegram'] },
      {
        type: 'branch',
        branches: [
          {
            if: {
              all: [
                { previous: true, in: ['failed', 'skipped'] },
                { user: 'locale', startsWith: 'de' },
              ],
            },
            steps: [{ type: 'send', channels: ['email'], title: 'Hallo', body: 'de' }],
          },
          {
            if: {
              any: [
                { previous: true, equals: 'skipped' },
                { data: 'plan', equals: 'pro' },
              ],
            },
            steps: [{ type: 'send', channels: ['email'], title: 'Hello', body: 'en' }],
          },
        ],
        otherwise: [{ type: 'delay', duration: '10ms' }],
      },
    ]);
    const german = await createUser({ email: `${uniqueId('de')}@example.test`, locale: 'de' });
    const english = await createUser({ email: `${uniqueId('en')}@example.test`, locale: 'en' });
    const both = await flowUser();
    const pro = await flowUser();
    const [g, e, b, p] = await Promise.all([
      notify({ userId: german.id, flow: key }),
      notify({ userId: english.id, flow: key }),
      notify({ userId: both.id, flow: key }),
      notify({ userId: pro.id, flow: key, data: { plan: 'pro' } }),
    ]);
    const de = await stack.smtp.waitFor((m) => m.envelopeTo.includes(german.contacts.email!));
    assert.equal(de.parsed.subject, 'Hallo');
    const en = await stack.smtp.waitFor((m) => m.envelopeTo.includes(english.contacts.email!));
    assert.equal(en.parsed.subject, 'Hello');
    const proMail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(pro.email));
    assert.equal(proMail.parsed.subject, 'Hello');
    const telegramOnly = await settled(b.id, 'sent');
    assert.deepEqual(
      telegramOnly.flowSteps.map((s) => [s.path, s.type, s.outcome, s.detail]),
      [
        ['0', 'send', 'sent', undefined],
        ['1', 'branch', 'branched', 'otherwise'],
        ['1.otherwise.0', 'delay', 'waited', undefined],
      ],
    );
    assert.equal(mailsTo(both.email).length, 0);
    const german_ = await settled(g.id, 'sent');
    assert.deepEqual(
      german_.flowSteps.map((s) => s.path),
      ['0', '1', '1.0.0'],
    );
    await settled(e.id, 'sent');
    await settled(p.id, 'sent');
    await recordHistory(stack.herald.temporal.workflow.getHandle(workflowIdFor(g.id)), 'flow-branch');
  });

  it('a cancellation key cancels pending delays and waits', async () => {
    const delayed = await flow([
      { type: 'delay', duration: '1h' },
      { type: 'send', channels: ['email'] },
    ]);
    const waiting = await flow([
      { type: 'send', channels: ['email'] },
      { type: 'wait', until: 'read', timeout: '1h' },
      { type: 'send', channels: ['telegram'] },
    ]);
    const user = await flowUser();
    const cancellationKey = uniqueId('order');
    const a = await notify({ userId: user.id, flow: delayed, cancellationKey });
    const b = await notify({ userId: user.id, flow: waiting, cancellationKey });
    const handle = stack.herald.temporal.workflow.getHandle(workflowIdFor(b.id));
    await eventually(
      async () => (await handle.query<{ flowStep?: { type: string } }>('status')).flowStep?.type === 'wait',
    );
    const result = await cancelByKey(cancellationKey);
    assert.equal(result.cancelled, 2);
    await settled(a.id, 'cancelled');
    await settled(b.id, 'cancelled');
    assert.equal(mailsTo(user.email).length, 1, 'only the first send of the waiting flow');
    assert.equal((await cancelByKey(cancellationKey)).cancelled, 0, 'nothing left to cancel');
    await recordHistory(handle, 'flow-wait-cancelled-by-key');
  });

  it('a cancellation key withdraws items from a digest; an emptied digest sends nothing', async () => {
    const key = await flow([
      { type: 'digest', window: '4s' },
      { type: 'send', channels: ['email'] },
    ]);
    const emptied = await flowUser();
    const partly = await flowUser();
    const cancellationKey = uniqueId('thread');
    const ids = await Promise.all([
      notify({ userId: emptied.id, flow: key, title: 'Gone 1', cancellationKey }),
      notify({ userId: emptied.id, flow: key, title: 'Gone 2', cancellationKey }),
      notify({ userId: partly.id, flow: key, title: 'Withdrawn', cancellationKey }),
      notify({ userId: partly.id, flow: key, title: 'Kept' }),
    ]);
    // Every one has joined its digest: the key withdraws the items rather than cancelling their runs.
    await eventually(async () =>
      (await Promise.all(ids.map((n) => view(n.id)))).every((v) => v.status === 'digested'),
    );
    const result = await cancelByKey(cancellationKey);
    assert.deepEqual(result, { cancellationKey, cancelled: 0, withdrawnFromDigests: 3 });
    assert.equal((await view(ids[0]!.id)).status, 'cancelled');
    const mail = await stack.smtp.waitFor((m) => m.envelopeTo.includes(partly.email), 15_000);
    assert.equal(mail.parsed.subject, 'Kept');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(mailsTo(emptied.email).length, 0, 'an emptied digest sends nothing');
  });

  it('shows the steps done so far in flowSteps while the flow rests in a wait', async () => {
    const key = await flow([
      { type: 'send', channels: ['email'] },
      { type: 'wait', until: 'read', timeout: '1h' },
      { type: 'send', channels: ['telegram'] },
    ]);
    const user = await flowUser();
    const { id } = await notify({ userId: user.id, flow: key, title: 'Resting' });
    const handle = stack.herald.temporal.workflow.getHandle(workflowIdFor(id));
    await eventually(async () => (await handle.query(statusQuery)).flowStep?.type === 'wait');
    // An hour's wait ahead: GET shows the send step already, not only once the flow ends.
    const resting = await eventually(async () => {
      const seen = await view(id);
      return seen.flowSteps.length > 0 && seen;
    });
    assert.deepEqual(
      resting.flowSteps.map((s) => [s.path, s.type, s.outcome]),
      [['0', 'send', 'sent']],
    );
    assert.notEqual(resting.status, 'sent', 'still running');
    const res = await stack.herald.api(`/v1/notifications/${id}/cancel`, { method: 'POST', json: {} });
    assert.equal(res.status, 200, await res.clone().text());
    await settled(id, 'cancelled');
    await recordHistory(handle, 'flow-steps-shown-while-waiting');
  });
});
