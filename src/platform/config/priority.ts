// Priority by category. Categories are free words the callers choose (no table holds them), and which
// ones are urgent is the deployment's decision, like MANDATORY_CATEGORIES: a setting, not an API.
import { z } from 'zod';
import { defineConfigSlice, variable } from './define.js';
import { listed } from './parsers.js';
import {
  NOTIFICATION_PRIORITIES,
  type CategoryPriorities,
  type NotificationPriority,
} from '../../workflows/priority.js';

const CATEGORY = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** `security:high,marketing:low`: a priority for each category named. */
const categoryPriorities = z.string().transform((value, ctx) => {
  const priorities: Record<string, NotificationPriority> = {};
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const [category = '', priority = '', ...rest] = item.split(':').map((p) => p.trim());
    if (
      rest.length > 0 ||
      !CATEGORY.test(category) ||
      !(NOTIFICATION_PRIORITIES as readonly string[]).includes(priority)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not category:priority (priorities: ${NOTIFICATION_PRIORITIES.join(', ')})`,
      });
      return z.NEVER;
    }
    if (category in priorities) {
      ctx.addIssue({ code: 'custom', message: `names ${category} twice` });
      return z.NEVER;
    }
    priorities[category] = priority as NotificationPriority;
  }
  return priorities as CategoryPriorities;
});

export interface PriorityConfig {
  /** The priority a single notification of these categories gets when its request names none. */
  categoryPriorities: CategoryPriorities;
}

export const priorityConfig = defineConfigSlice({
  title: 'Priority',
  variables: {
    CATEGORY_PRIORITIES: variable({
      description: `Default priority by category, comma-separated \`category:priority\` (${listed(NOTIFICATION_PRIORITIES)}), such as \`security:high,marketing:low\`. It applies to single notifications whose request names no \`priority\`; bulk requests and broadcasts stay \`low\` unless the request says otherwise ([operations.md](operations.md#priority-and-fairness)).`,
      parse: categoryPriorities,
      whenUnset: 'every category defaults to `normal`',
    }),
  },
  toConfig: (v): PriorityConfig => ({ categoryPriorities: v.CATEGORY_PRIORITIES ?? {} }),
});
