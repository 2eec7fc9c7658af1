import type { Db } from '../store/db.js';
import { countDelivery } from '../platform/metrics.js';
import type { NotificationInput } from '../workflows/definitions.js';
import type { DeliverySettings } from '../workflows/policies.js';
import { CHANNEL_DEFINITIONS, CHANNELS, type ChannelName } from './channels/registry.js';
import { recordPlan } from '../store/notifications.js';
import { loadRecipient } from '../store/recipients.js';
import { isAllowed } from '../domain/preferences.js';
import { quietHoursEnd } from '../domain/quiet-hours.js';
import type { WebhookTarget } from '../workflows/webhooks.js';

export interface RecipientPlan {
  /** Channels to deliver on, in the user's order. */
  planned: ChannelName[];
  skipped: { channel: ChannelName; reason: string }[];
  /** Usable channels not planned, in the user's order, when the notification asked for fallback. */
  fallbacks: ChannelName[];
  /** When the user's quiet hours end, if delivery must wait for them. */
  deferUntil?: string;
  settings: DeliverySettings;
  /** Endpoints of the API key that sent it, told of the outcome (absent when the notification is gone). */
  webhooks?: WebhookTarget[];
  /** Its broadcast was cancelled: nothing was planned or recorded, the notification is to end cancelled. */
  broadcastCancelled?: boolean;
}

export interface ResolveDeps {
  db: Db;
  /** Channels with a configured provider somewhere in the deployment. */
  configuredChannels: readonly ChannelName[];
  /** Categories that ignore opt-outs and quiet hours (never a missing contact). */
  mandatoryCategories: readonly string[];
  settings: DeliverySettings;
}

export interface ResolveInput extends NotificationInput {
  /** Workflow time of the call: quiet hours are judged at this instant, so replays agree. */
  at: string;
  /** A flow's send step: plan only the first usable channel, the others become its fallbacks. */
  firstOnly?: boolean;
  /** A flow's send step: channels earlier steps delivered on (one delivery per channel). */
  exclude?: ChannelName[];
}

/**
 * Contacts × preferences × category → the channels to deliver on, the fallbacks, and whether quiet
 * hours defer delivery. Records a delivery row for each planned or skipped channel.
 */
export function createResolveRecipient({
  db,
  configuredChannels,
  mandatoryCategories,
  settings,
}: ResolveDeps) {
  return async function resolveRecipient(input: ResolveInput): Promise<RecipientPlan> {
    const { user, notification, broadcastCancelled, webhooks } = await loadRecipient(
      db,
      input.userId,
      input.notificationId,
    );
    // Deleted with its user: nothing to deliver and nothing left to record.
    if (!notification) return { planned: [], skipped: [], fallbacks: [], settings };
    // Its broadcast was cancelled before it was resolved: no delivery is planned, none will start; the
    // workflow goes straight to cancelled (the openAttempt check stops one planned just before the cancel).
    if (broadcastCancelled)
      return { planned: [], skipped: [], fallbacks: [], settings, webhooks, broadcastCancelled: true };
    // The user's order first, then any channel it leaves out.
    const order = [...new Set([...(user?.channelOrder ?? []), ...CHANNELS])];
    const explicit = input.channels.length > 0;
    const mandatory = mandatoryCategories.includes(input.category);
    const plan: RecipientPlan = {
      planned: [],
      skipped: [],
      fallbacks: [],
      settings,
      webhooks,
    };

    type Unusable = { kind: 'gone' | 'unconfigured' | 'no_address' | 'opted_out'; reason: string };
    const unusable = (channel: ChannelName): Unusable | undefined => {
      if (input.exclude?.includes(channel))
        return { kind: 'unconfigured', reason: `an earlier step of the flow delivered on ${channel}` };
      if (!user) return { kind: 'gone', reason: 'the user no longer exists' };
      if (!configuredChannels.includes(channel))
        return { kind: 'unconfigured', reason: `the ${channel} channel is not configured` };
      if (!CHANNEL_DEFINITIONS[channel]?.hasAddress(user))
        return { kind: 'no_address', reason: `the user has no ${channel} address` };
      if (!mandatory && !isAllowed(user.preferences, input.category, channel))
        return { kind: 'opted_out', reason: `the user opted out of ${input.category} on ${channel}` };
      return undefined;
    };

    let missingAddresses = 0;
    for (const channel of orderBy(explicit ? input.channels : order, order)) {
      const problem = unusable(channel);
      if (!problem) plan.planned.push(channel);
      // A channel nobody asked for that cannot be used is not worth a record; a requested one or an opt-out is.
      else if (explicit || problem.kind === 'opted_out') {
        plan.skipped.push({ channel, reason: problem.reason });
        if (problem.kind === 'no_address') missingAddresses += 1;
      }
    }
    if (input.fallback) {
      plan.fallbacks = order.filter(
        (c) => !plan.planned.includes(c) && !plan.skipped.some((s) => s.channel === c) && !unusable(c),
      );
      // A requested channel without an address falls back at once to the next usable one.
      plan.planned.push(...plan.fallbacks.splice(0, missingAddresses));
    }
    if (input.firstOnly && plan.planned.length > 1)
      plan.fallbacks = [...plan.planned.splice(1), ...plan.fallbacks];

    if (user?.quietHours && plan.planned.length > 0 && !mandatory) {
      const end = quietHoursEnd(new Date(input.at), {
        start: user.quietHours.start,
        end: user.quietHours.end,
        timezone: user.quietHours.timezone ?? user.timezone,
      });
      if (end) plan.deferUntil = end.toISOString();
    }

    // Rows a retried or replayed activity already recorded are left as they are.
    await recordPlan(
      db,
      input.notificationId,
      [
        ...plan.planned.map((channel) => ({ channel, status: 'pending' as const })),
        ...plan.skipped.map(({ channel, reason }) => ({
          channel,
          status: 'skipped' as const,
          lastError: reason,
        })),
      ],
      plan.deferUntil ? 'deferred' : 'processing',
    );
    for (const { channel } of plan.skipped) countDelivery(channel, 'skipped');
    return plan;
  };
}

/** Channels, deduplicated, in the order the user prefers (unknown ones last). */
function orderBy(channels: readonly ChannelName[], order: readonly ChannelName[]): ChannelName[] {
  const unique = [...new Set(channels)];
  const rank = (c: ChannelName) => (order.includes(c) ? order.indexOf(c) : order.length);
  return unique.sort((a, b) => rank(a) - rank(b));
}
