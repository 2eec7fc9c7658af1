// Recording that a recipient acknowledged a delivery: one statement that finds the delivery only if the
// one acknowledging may (the link's user, the chat the message went to, the inbox's reader) and sets
// acknowledged_at the first time. A second acknowledgement changes nothing and says so.
import { Prisma, type Db } from './db.js';
import type { ChannelName } from '../workflows/definitions.js';

/** Who acknowledges, as each door knows them. */
export type AcknowledgementClaim =
  /** A signed link: its delivery, of its user. */
  | { via: 'link'; deliveryId: string; userId: string }
  /** A Telegram button: its delivery, pressed under the very message it was sent as (`<chat>:<message>`). */
  | { via: 'telegram'; deliveryId: string; chatId: string; messageId: number }
  /** The in-app inbox: the reader's message, sent with an acknowledge action. */
  | { via: 'inbox'; userId: string; messageId: string };

export interface RecordedAcknowledgement {
  deliveryId: string;
  notificationId: string;
  channel: ChannelName;
  workflowId: string;
  acknowledgedAt: Date;
  /** False when it had been acknowledged before: nothing changed. */
  becameAcknowledged: boolean;
}

function deliveryOf(claim: AcknowledgementClaim): Prisma.Sql {
  switch (claim.via) {
    case 'link':
      return Prisma.sql`d.id = ${claim.deliveryId}::uuid AND n.user_id = ${claim.userId}::uuid`;
    case 'telegram':
      return Prisma.sql`d.id = ${claim.deliveryId}::uuid AND d.channel = 'telegram'
        AND d.provider_message_id = ${`${claim.chatId}:${claim.messageId}`}`;
    case 'inbox':
      return Prisma.sql`d.channel = 'in_app' AND d.notification_id = (
        SELECT notification_id FROM inbox_messages
        WHERE id = ${claim.messageId}::uuid AND user_id = ${claim.userId}::uuid AND ack_requested)`;
  }
}

/** Undefined when no delivery matches the claim: another's, altered, or never asked to be acknowledged. */
export async function recordAcknowledgement(
  db: Db,
  claim: AcknowledgementClaim,
): Promise<RecordedAcknowledgement | undefined> {
  const [row] = await db.$queryRaw<RecordedAcknowledgement[]>`
    WITH target AS (
      SELECT d.id, d.acknowledged_at FROM deliveries d JOIN notifications n ON n.id = d.notification_id
      WHERE ${deliveryOf(claim)}
      FOR UPDATE OF d
    ), acknowledged AS (
      UPDATE deliveries d
      SET acknowledged_at = COALESCE(d.acknowledged_at, now() AT TIME ZONE 'UTC'),
          updated_at = CASE WHEN d.acknowledged_at IS NULL THEN now() AT TIME ZONE 'UTC' ELSE d.updated_at END
      FROM target WHERE d.id = target.id
      RETURNING d.id, d.notification_id, d.channel, d.acknowledged_at
    )
    SELECT a.id::text AS "deliveryId", a.notification_id::text AS "notificationId",
      a.channel::text AS channel, n.workflow_id AS "workflowId", a.acknowledged_at AS "acknowledgedAt",
      (target.acknowledged_at IS NULL) AS "becameAcknowledged"
    FROM acknowledged a JOIN target ON target.id = a.id JOIN notifications n ON n.id = a.notification_id`;
  return row;
}

/** What an acknowledge link's page shows: the notification, and whether it was acknowledged already. */
export async function findAcknowledgeable(
  db: Db,
  deliveryId: string,
  userId: string,
): Promise<{ category: string; title: string | null; acknowledgedAt: Date | null } | undefined> {
  const [row] = await db.$queryRaw<{ category: string; title: string | null; acknowledgedAt: Date | null }[]>`
    SELECT n.category, n.title, d.acknowledged_at AS "acknowledgedAt"
    FROM deliveries d JOIN notifications n ON n.id = d.notification_id
    WHERE d.id = ${deliveryId}::uuid AND n.user_id = ${userId}::uuid`;
  return row;
}

/**
 * Whether a Telegram delivery's send is still being recorded: the message may already be in the chat
 * (and its button tapped) a moment before the sending activity writes which message it was.
 */
export async function isTelegramSendUnrecorded(db: Db, deliveryId: string): Promise<boolean> {
  const [row] = await db.$queryRaw<{ unrecorded: boolean }[]>`
    SELECT true AS unrecorded FROM deliveries
    WHERE id = ${deliveryId}::uuid AND channel = 'telegram' AND provider_message_id IS NULL
      AND status IN ('pending', 'sending', 'retrying')`;
  return row?.unrecorded ?? false;
}
