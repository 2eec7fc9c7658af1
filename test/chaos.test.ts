// The short run of the fault-injection suite (chaos/): 100 notifications over the four channels through
// real processes of its own (PostgreSQL, Temporal, sinks, worker, API) while Telegram answers a burst of 429,
// some push subscriptions turn 410, the SMTP sink goes down for 5 s, and the worker and the API are SIGKILLed
// (clients retry with their Idempotency-Key: every notification is recorded once and none stays open).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortPlan } from '../chaos/faults.js';
import { resultTable } from '../chaos/report.js';
import { runChaos } from '../chaos/suite.js';

test(
  'nothing is lost or doubled under worker and API SIGKILLs, an SMTP outage, a Telegram 429 burst and push 410s',
  {
    timeout: 420_000,
  },
  async () => {
    const lines: string[] = [];
    const result = await runChaos({
      notifications: 100,
      rate: 10,
      concurrency: 8,
      faults: shortPlan(),
      settleTimeoutMs: 240_000,
      log: (line) => lines.push(line),
    });
    const table = resultTable(result);
    const { verdict } = result;
    const problems = [...verdict.lost, ...verdict.disagreements].slice(0, 20).join('\n');
    const context = `${table}\n${problems}\n${lines.join('\n')}`;

    assert.deepEqual(
      result.injected.map((f) => f.name),
      shortPlan().map((f) => f.name),
      context,
    );
    assert.equal(verdict.accepted, 100, context);
    assert.deepEqual(verdict.lost, [], context);
    assert.deepEqual(verdict.disagreements, [], context);
    // Email is sent again only when a send's outcome was lost (the worker killed mid-send, the connection
    // cut after the sink had it): SMTP cannot say whether it arrived. Such a resend keeps the Message-ID.
    assert.equal(verdict.unexplainedDuplicates.email, 0, context);
    assert.equal(result.repeatedEmailMessageIds, verdict.duplicates.email, context);
    // Each channel delivered all 100, push all but the subscriptions that turned 410.
    for (const channel of ['email', 'telegram', 'sms'] as const)
      assert.equal(verdict.delivered[channel], 100);
    assert.ok(verdict.permanentFailures.push > 0, `some push subscriptions answered 410\n${context}`);
    assert.equal(verdict.delivered.push + verdict.permanentFailures.push, 100, context);
    assert.ok(result.workerStarts >= 2, context);
    assert.ok(result.apiStarts >= 2, context);
    assert.ok(result.passed, context);
    console.log(table);
  },
);
