import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowed, type PreferenceRule } from '../../src/domain/preferences.js';

const rule = (category: string, channel: string, enabled: boolean): PreferenceRule => ({
  category,
  channel,
  enabled,
});

describe('isAllowed', () => {
  it('allows everything when there are no rules', () => {
    assert.equal(isAllowed([], 'billing', 'email'), true);
    assert.equal(isAllowed([], 'news', 'sms'), true);
  });

  it('allows when no rule matches the category or channel', () => {
    const rules = [rule('news', 'sms', false), rule('marketing', '*', false)];
    assert.equal(isAllowed(rules, 'billing', 'email'), true);
  });

  it('applies a global (*, *) rule', () => {
    assert.equal(isAllowed([rule('*', '*', false)], 'billing', 'email'), false);
  });

  it('prefers (*, channel) over (*, *)', () => {
    const rules = [rule('*', '*', false), rule('*', 'email', true)];
    assert.equal(isAllowed(rules, 'billing', 'email'), true);
    assert.equal(isAllowed(rules, 'billing', 'sms'), false);
  });

  it('prefers (category, *) over (*, channel)', () => {
    const rules = [rule('*', 'email', false), rule('billing', '*', true)];
    assert.equal(isAllowed(rules, 'billing', 'email'), true);
    assert.equal(isAllowed(rules, 'news', 'email'), false);
  });

  it('prefers (category, channel) over (category, *)', () => {
    const rules = [rule('billing', '*', false), rule('billing', 'email', true)];
    assert.equal(isAllowed(rules, 'billing', 'email'), true);
    assert.equal(isAllowed(rules, 'billing', 'sms'), false);
  });

  it('lets the most specific rule win regardless of rule order', () => {
    const rules = [
      rule('*', '*', true),
      rule('billing', 'sms', false),
      rule('*', 'sms', true),
      rule('billing', '*', true),
    ];
    assert.equal(isAllowed(rules, 'billing', 'sms'), false);
    assert.equal(isAllowed([...rules].reverse(), 'billing', 'sms'), false);
    assert.equal(isAllowed(rules, 'billing', 'email'), true);
    assert.equal(isAllowed(rules, 'news', 'sms'), true);
  });

  it('matches category and channel exactly', () => {
    const rules = [rule('billing', 'email', false)];
    assert.equal(isAllowed(rules, 'Billing', 'email'), true);
    assert.equal(isAllowed(rules, 'billing', 'emails'), true);
    assert.equal(isAllowed(rules, 'email', 'billing'), true);
  });
});
