import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInFlightSends } from '../../src/activities/channels/channel.js';

const attemptOf = (controller: AbortController) => ({
  signal: controller.signal,
  deadline: Date.now() + 60_000,
});

describe("a provider request's signal", () => {
  it('aborts when the provider closes', () => {
    const inFlight = createInFlightSends('Test');
    const signal = inFlight.requestSignal(attemptOf(new AbortController()), 60_000);
    assert.equal(signal.aborted, false);
    inFlight.close();
    assert.equal(signal.aborted, true);
    assert.match(String((signal.reason as Error).message), /Test channel was closed/);
  });

  it("aborts when the attempt is stopped, with the attempt's reason", () => {
    const attempt = new AbortController();
    const signal = createInFlightSends('Test').requestSignal(attemptOf(attempt), 60_000);
    attempt.abort(new Error('budget ran out'));
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as Error).message, 'budget ran out');
  });

  it("aborts at the request's own timeout, and has none unless given one", async () => {
    const inFlight = createInFlightSends('Test');
    const timed = inFlight.requestSignal(undefined, 20);
    const untimed = inFlight.requestSignal(attemptOf(new AbortController()));
    await sleep(60);
    assert.equal(timed.aborted, true);
    assert.equal((timed.reason as Error).name, 'TimeoutError');
    assert.equal(untimed.aborted, false);
    // Neither a timeout nor an attempt: the provider's own signal.
    assert.equal(inFlight.requestSignal(undefined), inFlight.signal);
  });
});
