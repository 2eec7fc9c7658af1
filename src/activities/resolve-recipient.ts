import type { Db } from '../lib/db.js';
import { CHANNELS, type ChannelName, type NotificationInput } from '../workflows/definitions.js';
import { CHANNEL_DEFINITIONS } from './channels/index.js';
import { isAllowed } from './preferences.js';

export interface RecipientPlan {
  /** Channels to deliver on, in the user's order. */
  planned: ChannelName[];
  skipped: { channel: ChannelName; reason: string }[];
}

export interface ResolveDeps {
  db: Db;
  /** Channels with a configured provider somewhere in the deployment. */
  configuredChannels: readonly ChannelName[];
  /** Categories that ignore opt-outs (never a missing contact). */
  mandatoryCategories: readonly string[];
}

/** Contacts × preferences × category → the channels to deliver on; records a delivery row for each. */
export function createResolveRecipient({ db, configuredChannels, mandatoryCategories }: ResolveDeps) {
  return async function resolveRecipient(input: NotificationInput): Promise<RecipientPlan> {
    const user = await db.user.findUnique({
      where: { id: input.userId },
      include: { preferences: true, pushSubscriptions: { where: { active: true } } },
    });
    const explicit = input.channels.length > 0;
    const requested = explicit ? input.channels : (user?.channelOrder ?? [...CHANNELS]);
    const plan: RecipientPlan = { planned: [], skipped: [] };
    const mandatory = mandatoryCategories.includes(input.category);

    for (const channel of orderBy(requested, user?.channelOrder ?? [...CHANNELS])) {
      if (!user) {
        plan.skipped.push({ channel, reason: 'the user no longer exists' });
      } else if (!configuredChannels.includes(channel) || !CHANNEL_DEFINITIONS[channel]?.hasAddress(user)) {
        // A channel nobody asked for that cannot be used is not worth a record; a requested one is.
        if (explicit) {
          const reason = configuredChannels.includes(channel)
            ? `the user has no ${channel} address`
            : `the ${channel} channel is not configured`;
          plan.skipped.push({ channel, reason });
        }
      } else if (!mandatory && !isAllowed(user.preferences, input.category, channel)) {
        plan.skipped.push({ channel, reason: `the user opted out of ${input.category} on ${channel}` });
      } else {
        plan.planned.push(channel);
      }
    }

    // Upserts, so a retried or replayed activity records the same rows once.
    await db.$transaction([
      ...plan.planned.map((channel) =>
        db.delivery.upsert({
          where: { notificationId_channel: { notificationId: input.notificationId, channel } },
          create: { notificationId: input.notificationId, channel, status: 'pending' },
          update: {},
        }),
      ),
      ...plan.skipped.map(({ channel, reason }) =>
        db.delivery.upsert({
          where: { notificationId_channel: { notificationId: input.notificationId, channel } },
          create: { notificationId: input.notificationId, channel, status: 'skipped', lastError: reason },
          update: {},
        }),
      ),
      db.notification.updateMany({
        where: { id: input.notificationId, status: { in: ['accepted', 'scheduled'] } },
        data: { status: 'processing' },
      }),
    ]);
    return plan;
  };
}

/** Requested channels, deduplicated, in the order the user prefers (unknown ones last). */
function orderBy(requested: readonly ChannelName[], order: readonly ChannelName[]): ChannelName[] {
  const unique = [...new Set(requested)];
  const rank = (c: ChannelName) => (order.includes(c) ? order.indexOf(c) : order.length);
  return unique.sort((a, b) => rank(a) - rank(b));
}
