import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attemptBudgetMs } from '../../src/activities/attempt-budget.js';
import { deliveryActivityOptions } from '../../src/workflows/policies.js';

describe('the time budget of a delivery attempt', () => {
  it('stays below the activity timeout, keeping time to record how the attempt ended', () => {
    assert.equal(attemptBudgetMs(60_000), 50_000, 'at most 10 s kept back');
    assert.equal(attemptBudgetMs(16_000), 12_800, 'a fifth kept back');
    assert.equal(attemptBudgetMs(3_000), 2_000, 'at least 1 s kept back');
    assert.equal(attemptBudgetMs(1_000), 500, 'never more than half');
  });

  it('is set by the activity options: the attempt timeout and a heartbeat timeout below it', () => {
    const defaults = deliveryActivityOptions('email');
    assert.equal(defaults.startToCloseTimeout, 60_000);
    assert.equal(defaults.heartbeatTimeout, 15_000);
    const short = deliveryActivityOptions('email', { attemptTimeout: 16_000 });
    assert.equal(short.startToCloseTimeout, 16_000);
    assert.equal(short.heartbeatTimeout, 4_000);
    // A delivery that gives up sooner than one attempt's timeout bounds the attempt too.
    assert.equal(deliveryActivityOptions('sms', { giveUpAfter: 30_000 }).startToCloseTimeout, 30_000);
  });
});
