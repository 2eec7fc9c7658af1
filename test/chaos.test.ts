// The short run of the fault-injection suite (chaos/): 100 notifications over all seven channels (SMS
// through Twilio; push to a browser, an FCM or an APNs phone, a third each) through real processes of its
// own (PostgreSQL, Temporal, sinks, worker, API) while Telegram, Slack and Twilio answer bursts of 429,
// Discord and Teams of 5xx, FCM and APNs of both, some browsers and phones turn gone, the SMTP sink goes
// down for 5 s, and the worker and the API are SIGKILLed (clients retry with their Idempotency-Key: every
// notification is recorded once and none stays open).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortPlan } from '../chaos/faults.js';
import { resultTable } from '../chaos/report.js';
import { runChaos } from '../chaos/suite.js';
import { CHANNELS } from '../chaos/verify.js';

test(
  'nothing is lost or doubled under worker and API SIGKILLs, an SMTP outage, provider 429 and 5xx bursts (FCM and APNs too) and push targets gone',
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
    // The HTTP providers likewise: a 429 or a 5xx is an answer (the message was refused), not a lost outcome.
    for (const channel of CHANNELS) assert.equal(verdict.unexplainedDuplicates[channel], 0, context);
    assert.equal(result.repeatedEmailMessageIds, verdict.duplicates.email, context);
    // Each channel delivered all 100, push all but the subscriptions that turned 410.
    for (const channel of CHANNELS.filter((c) => c !== 'push'))
      assert.equal(verdict.delivered[channel], 100, `${channel}\n${context}`);
    // Each provider's burst met Herald's requests.
    for (const [provider, refused] of Object.entries(result.refusedAnswers))
      assert.ok(refused > 0, `${provider} answered no 429 or 5xx\n${context}`);
    // Twilio's status callbacks reached the API and confirmed SMS deliveries (one the API missed, killed, stays sent).
    assert.ok(verdict.confirmed.sms > 0, context);
    assert.ok(verdict.permanentFailures.push > 0, `some push subscriptions answered 410\n${context}`);
    assert.equal(verdict.delivered.push + verdict.permanentFailures.push, 100, context);
    // Phones as well as browsers: every push arrived where its recipient has it (browser, FCM, APNs).
    assert.equal(
      verdict.pushDelivered.browser + verdict.pushDelivered.fcm + verdict.pushDelivered.apns,
      verdict.delivered.push,
      context,
    );
    assert.ok(verdict.pushDelivered.fcm >= 30 && verdict.pushDelivered.apns >= 30, context);
    assert.ok(result.workerStarts >= 2, context);
    assert.ok(result.apiStarts >= 2, context);
    assert.ok(result.passed, context);
    console.log(table);
  },
);
