// What the preference page shows: the user's channels with their addresses partly hidden, the
// categories worth a switch, their rules and quiet hours, and the browsers subscribed to Web Push.
// Push reaches browsers and phones alike: its line counts both.
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { CHANNEL_DEFINITIONS, CHANNELS, type ChannelName } from '../activities/channels/registry.js';
import type { PreferenceCenterOptions } from './preference-center.js';
import { preferencesResponse, responseSchemas } from '../domain/views.js';
import { findUser, preferencesOf } from '../domain/users.js';
import { recentCategories } from '../store/notifications.js';

/** The category of "send me a test": not listed on the page, so the channel switches decide alone. */
export const TEST_CATEGORY = 'test';
const MAX_CATEGORIES = 50;

/** What the page shows: the user's channels with their (masked) addresses, categories and rules. */
export const preferenceCenterResponse = z
  .object({
    expiresAt: z.iso.datetime(),
    timezone: z.string(),
    channels: z.array(
      z.object({
        channel: z.enum(CHANNELS),
        /** Offered here and, except for push (subscribed on the page), with an address on file. */
        available: z.boolean(),
        /** The address, partly hidden, or why the channel is not available. */
        detail: z.string(),
      }),
    ),
    /** Each channel's name as people read it, from the channel registry. */
    labels: z.record(z.string(), z.string()),
    categories: z.array(z.object({ category: z.string(), mandatory: z.boolean() })),
    preferences: preferencesResponse,
    push: z
      .object({
        vapidPublicKey: z.string(),
        subscriptions: z.array(z.object({ id: z.uuid(), endpoint: z.string(), createdAt: z.iso.datetime() })),
      })
      .nullable(),
  })
  .register(responseSchemas, { id: 'PreferenceCenter' });
type PreferenceCenterResponse = z.infer<typeof preferenceCenterResponse>;

const counted = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * What push reaches: the browsers subscribed (undefined: browser push is not offered, so not counted) and
 * the active phones (FCM, APNs). Undefined when neither is there to show: the channel is not available.
 */
export function pushTargets(browsers: number | undefined, phones: number): string | undefined {
  if (browsers === undefined) return phones > 0 ? counted(phones, 'phone') : undefined;
  return phones > 0
    ? `${counted(browsers, 'browser')} and ${counted(phones, 'phone')}`
    : counted(browsers, 'browser');
}

/** The page's state for the user of a link that is valid until `expiresAt`. */
export async function pageState(
  db: Db,
  deps: PreferenceCenterOptions,
  userId: string,
  expiresAt: Date,
): Promise<PreferenceCenterResponse> {
  const user = await findUser(db, userId);
  const [preferences, subscriptions, recent] = await Promise.all([
    preferencesOf(db, user),
    db.pushSubscription.findMany({ where: { userId: user.id, active: true }, orderBy: { createdAt: 'asc' } }),
    recentCategories(db, user.id, MAX_CATEGORIES),
  ]);
  const push =
    deps.configuredChannels.includes('push') && deps.vapidPublicKey ? deps.vapidPublicKey : undefined;
  // A channel with one address per user shows it partly hidden; push, the browsers and phones it reaches.
  const address = (channel: ChannelName): string | undefined => {
    const { contact, implicitAddress } = CHANNEL_DEFINITIONS[channel];
    if (implicitAddress) return implicitAddress;
    const value = user.contacts[channel];
    if (contact) return value === undefined ? undefined : contact.hint(value);
    return pushTargets(push ? subscriptions.length : undefined, user.pushDevices.length);
  };
  const missing = (channel: ChannelName) =>
    CHANNEL_DEFINITIONS[channel].contact?.missing ?? 'not offered here';
  const mandatory = new Set(deps.mandatoryCategories);
  const categories = [
    ...new Set([
      ...deps.categories,
      ...preferences.rules.map((r) => r.category),
      ...recent,
      ...deps.mandatoryCategories,
    ]),
  ]
    .filter((c) => c !== '*' && c !== TEST_CATEGORY)
    .slice(0, MAX_CATEGORIES);
  return {
    expiresAt: expiresAt.toISOString(),
    timezone: user.timezone,
    channels: CHANNELS.map((channel) => {
      const offered = deps.configuredChannels.includes(channel);
      const detail = offered ? address(channel) : undefined;
      return {
        channel,
        available: Boolean(detail),
        detail: detail ?? (offered ? missing(channel) : 'not offered here'),
      };
    }),
    labels: Object.fromEntries(CHANNELS.map((channel) => [channel, CHANNEL_DEFINITIONS[channel].label])),
    categories: categories.map((category) => ({ category, mandatory: mandatory.has(category) })),
    preferences,
    push: push
      ? {
          vapidPublicKey: push,
          subscriptions: subscriptions.map((s) => ({
            id: s.id,
            endpoint: s.endpoint,
            createdAt: s.createdAt.toISOString(),
          })),
        }
      : null,
  };
}
