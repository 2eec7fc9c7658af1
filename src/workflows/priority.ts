// How urgent a notification is, and how that becomes Temporal task-queue priority. Imported by workflow
// code (fan-outs start notifications with it) as well as the domain: no Node built-ins, no I/O.
import type { Priority } from '@temporalio/common';

export const NOTIFICATION_PRIORITIES = ['high', 'normal', 'low'] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/**
 * Temporal's priority keys run from 1 (first) to 5 by default, and a task without one counts as 3: normal
 * sits there, with Herald's own unprioritised work (schedules, webhooks), and 2 and 4 stay free for a level
 * in between without renumbering what is already queued.
 */
export const PRIORITY_KEYS: Readonly<Record<NotificationPriority, number>> = { high: 1, normal: 3, low: 5 };

/** Where a notification came in: bulk and broadcasts are campaigns, low unless the caller says otherwise. */
export type NotificationDoor = 'single' | 'bulk' | 'broadcast';
const DOOR_DEFAULTS: Readonly<Record<NotificationDoor, NotificationPriority>> = {
  single: 'normal',
  bulk: 'low',
  broadcast: 'low',
};

/** Priorities the deployment gives whole categories (CATEGORY_PRIORITIES), such as security: high. */
export type CategoryPriorities = Readonly<Record<string, NotificationPriority>>;

/**
 * The caller's priority when given; else, for a single notification, its category's default; else the
 * door's. A category's default never lifts a campaign: a bulk of `security` notices stays low unless the
 * caller asks, so it cannot crowd out the password resets the category was raised for.
 */
export function choosePriority(
  request: { priority?: NotificationPriority; category: string },
  door: NotificationDoor,
  categoryPriorities: CategoryPriorities = {},
): NotificationPriority {
  if (request.priority) return request.priority;
  const byCategory = door === 'single' ? categoryPriorities[request.category] : undefined;
  return byCategory ?? DOOR_DEFAULTS[door];
}

/** Temporal allows fairness keys of at most 64 bytes; sources are ASCII ids well below that. */
const FAIRNESS_KEY_LIMIT = 64;

/**
 * The priority a notification's workflow starts with; its activities and children inherit it. Each source
 * (an API key's id, `bot`, ...) is its own fairness key, so on a server with fairness on, one caller's
 * backlog shares the workers with the others' instead of standing in front of them.
 */
export function temporalPriorityFor(notification: {
  priority: NotificationPriority;
  source: string | null;
}): Priority {
  return {
    priorityKey: PRIORITY_KEYS[notification.priority],
    fairnessKey: (notification.source ?? 'herald').slice(0, FAIRNESS_KEY_LIMIT),
  };
}
