import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { choosePriority, temporalPriorityFor } from '../../src/workflows/priority.js';

const DATABASE_URL = 'postgres://herald:secret@127.0.0.1:5432/herald';
const categoryPriorities = (value?: string) =>
  loadConfig({ DATABASE_URL, CATEGORY_PRIORITIES: value }).categoryPriorities;

describe('priority by category', () => {
  it('reads CATEGORY_PRIORITIES as category:priority pairs', () => {
    assert.deepEqual(categoryPriorities(' security:high, marketing : low ,'), {
      security: 'high',
      marketing: 'low',
    });
    assert.deepEqual(categoryPriorities(undefined), {});
  });

  for (const bad of ['security:urgent', 'security', 'Security:high', 'a:high:low', 'news:low,news:high'])
    it(`refuses CATEGORY_PRIORITIES=${bad}, naming it`, () => {
      assert.throws(
        () => categoryPriorities(bad),
        (error: unknown) =>
          error instanceof ConfigError && error.problems.some((p) => p.variable === 'CATEGORY_PRIORITIES'),
      );
    });

  const categories = { security: 'high', marketing: 'low' } as const;
  it("gives a single notification its category's default unless the request names one", () => {
    assert.equal(choosePriority({ category: 'security' }, 'single', categories), 'high');
    assert.equal(choosePriority({ category: 'marketing' }, 'single', categories), 'low');
    assert.equal(choosePriority({ category: 'billing' }, 'single', categories), 'normal');
    assert.equal(choosePriority({ category: 'security', priority: 'low' }, 'single', categories), 'low');
  });

  it('keeps bulk and broadcasts low whatever the category, unless the request names a priority', () => {
    for (const door of ['bulk', 'broadcast'] as const) {
      assert.equal(choosePriority({ category: 'security' }, door, categories), 'low');
      assert.equal(choosePriority({ category: 'billing', priority: 'high' }, door, categories), 'high');
    }
  });

  it('maps priorities to Temporal keys and the source to the fairness key', () => {
    assert.deepEqual(temporalPriorityFor({ priority: 'high', source: 'key-1' }), {
      priorityKey: 1,
      fairnessKey: 'key-1',
    });
    assert.equal(temporalPriorityFor({ priority: 'normal', source: null }).priorityKey, 3);
    assert.equal(temporalPriorityFor({ priority: 'low', source: 'x'.repeat(100) }).fairnessKey!.length, 64);
  });
});
