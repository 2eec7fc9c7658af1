// One request followed into Temporal: its id is echoed, stored with the notification, put on the
// workflow's memo, and logged beside the notification and workflow ids.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('request ids', () => {
  let herald: RunningStack;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    // No workers: the workflow's start is what is checked, not its run.
    herald = await startHerald(testEnv(), { queues: [], logger: pino({ level: 'trace' }, sink) });
  });
  after(() => herald?.stop());

  async function send(requestId?: string) {
    const email = `${uniqueId('rid')}@example.test`;
    const user = (await (
      await herald.api('/v1/users', { json: { externalId: uniqueId(), email } })
    ).json()) as {
      id: string;
    };
    const res = await herald.api('/v1/notifications', {
      json: { userId: user.id, category: 'traced', title: 'Secret title', body: 'Secret body' },
      headers: requestId === undefined ? {} : { 'x-request-id': requestId },
    });
    assert.equal(res.status, 202);
    return { res, email, notification: (await res.json()) as { id: string; workflowId: string } };
  }

  it('carries the caller’s X-Request-Id from the response to the database, the workflow memo and the logs', async () => {
    const requestId = `trace-${uniqueId()}`;
    const { res, email, notification } = await send(requestId);
    assert.equal(res.headers.get('x-request-id'), requestId);

    const row = await herald.db.notification.findUniqueOrThrow({ where: { id: notification.id } });
    assert.equal(row.requestId, requestId);
    const description = await herald.temporal.workflow.getHandle(notification.workflowId).describe();
    assert.equal(description.memo?.requestId, requestId);

    const accepted = lines.find((l) => l.msg === 'notification accepted' && l.requestId === requestId);
    assert.ok(accepted, 'the accepted line names the request');
    assert.equal(accepted.notificationId, notification.id);
    assert.equal(accepted.workflowId, notification.workflowId);
    const request = lines.find((l) => l.msg === 'request' && l.requestId === requestId);
    assert.equal(request?.route, '/v1/notifications');
    assert.equal(request?.status, 202);

    const logged = JSON.stringify(lines);
    assert.ok(!logged.includes(email), 'no address in the logs');
    assert.ok(!logged.includes('Secret body') && !logged.includes('Secret title'), 'no content in the logs');
  });

  it('replaces an id that is not safe to log with a fresh one, and makes one when none is sent', async () => {
    for (const unsafe of ['has spaces', 'x'.repeat(200), 'semi;colon/slash', undefined]) {
      const { res, notification } = await send(unsafe);
      const given = res.headers.get('x-request-id')!;
      assert.match(given, /^[0-9a-f-]{36}$/);
      const description = await herald.temporal.workflow.getHandle(notification.workflowId).describe();
      assert.equal(description.memo?.requestId, given);
    }
  });
});
