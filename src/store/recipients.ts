// The recipient projection, written once: a user as the channels see them (Recipient), with their
// contacts and active push subscriptions and devices, read in the same statement as whatever else the caller needs.
import type { Recipient } from '../activities/channels/registry.js';
import type { PreferenceRule } from '../domain/preferences.js';
import type { ChannelName } from '../workflows/definitions.js';
import type { WebhookTarget } from '../workflows/webhooks.js';
import { Prisma, type Db } from './db.js';
import { broadcastCancelledSql } from './broadcasts.js';

/** `json_build_object` arguments for the Recipient of `users u`. */
export const RECIPIENT_FIELDS = Prisma.sql`
  'id', u.id, 'locale', u.locale, 'linkVersion', u.link_version,
  'contacts', COALESCE((
    SELECT json_object_agg(c.channel, c.address) FROM contacts c WHERE c.user_id = u.id), '{}'::json),
  'pushSubscriptions', COALESCE((
    SELECT json_agg(json_build_object('id', s.id, 'endpoint', s.endpoint, 'p256dh', s.p256dh,
                                      'auth', s.auth) ORDER BY s.created_at)
    FROM push_subscriptions s WHERE s.user_id = u.id AND s.active), '[]'::json),
  'pushDevices', COALESCE((
    SELECT json_agg(json_build_object('id', d.id, 'provider', d.provider, 'token', d.token)
                    ORDER BY d.created_at)
    FROM push_devices d WHERE d.user_id = u.id AND d.active), '[]'::json)`;

/** The recipient with what deciding the channels needs: order, preferences, quiet hours. */
export interface RecipientRecord extends Recipient {
  timezone: string;
  channelOrder: ChannelName[];
  preferences: PreferenceRule[];
  quietHours: { start: string; end: string; timezone: string | null } | null;
}

export interface RecipientLoad {
  user: RecipientRecord | null;
  notification: boolean;
  /** The notification belongs to a broadcast that was cancelled: nothing is to be planned. */
  broadcastCancelled: boolean;
  webhooks: WebhookTarget[];
}

/**
 * The user with their contacts, preferences, quiet hours and active push targets, whether the
 * notification still exists (and whether its broadcast was cancelled), and the webhook endpoints of the
 * API key that sent it: one statement.
 */
export async function loadRecipient(db: Db, userId: string, notificationId: string): Promise<RecipientLoad> {
  const [row] = await db.$queryRaw<RecipientLoad[]>`
    SELECT
      EXISTS (SELECT 1 FROM notifications WHERE id = ${notificationId}::uuid) AS notification,
      ${broadcastCancelledSql(notificationId)} AS "broadcastCancelled",
      (SELECT json_build_object(${RECIPIENT_FIELDS},
         'timezone', u.timezone, 'channelOrder', u.channel_order,
         'preferences', COALESCE((
           SELECT json_agg(json_build_object('category', p.category, 'channel', p.channel,
                                             'enabled', p.enabled))
           FROM preferences p WHERE p.user_id = u.id), '[]'::json),
         'quietHours', (
           SELECT json_build_object('start', q.start, 'end', q."end", 'timezone', q.timezone)
           FROM quiet_hours q WHERE q.user_id = u.id))
       FROM users u WHERE u.id = ${userId}::uuid) AS "user",
      COALESCE((
        SELECT json_agg(json_build_object('id', w.id, 'events', w.events) ORDER BY w.created_at)
        FROM webhook_endpoints w JOIN notifications n ON n.id = ${notificationId}::uuid
        WHERE w.owner = n.source AND w.deleted_at IS NULL), '[]'::json) AS webhooks`;
  return row!;
}
