// A delivery's attempts: opening one, recording how it ended, and the provider's receipt that may follow.
// Each write is one SQL statement: the attempt row and the delivery row change together, atomically, with
// no transaction. A `$transaction([...])` of two Prisma writes costs two query compilations, BEGIN and
// COMMIT, and a wait for a connection of its own that fails (P2028) after 2 s when many deliveries run at
// once; see bench/README.md. Timestamps are written as Prisma writes them: UTC in `timestamp(3)` columns.
import type { Db } from './db.js';
import { ACCEPTED_STATUSES, type ChannelName, type ReceiptStatus } from '../workflows/definitions.js';
import type { Recipient } from '../activities/channels/registry.js';
import { RECIPIENT_FIELDS } from './recipients.js';

const ACCEPTED: string[] = [...ACCEPTED_STATUSES];

export interface AttemptIds {
  attemptId: string;
  deliveryId: string;
}

/** Closes the attempt as sent, and the delivery with it. */
export async function recordSent(db: Db, ids: AttemptIds, providerMessageId: string | undefined) {
  await db.$executeRaw`
    WITH attempt AS (
      UPDATE delivery_attempts
      SET outcome = 'sent', finished_at = now() AT TIME ZONE 'UTC'
      WHERE id = ${ids.attemptId}::uuid
    )
    UPDATE deliveries
    SET status = 'sent', provider_message_id = ${providerMessageId ?? null}, last_error = NULL,
        sent_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${ids.deliveryId}::uuid`;
}

/** Closes the attempt as failed: a permanent failure fails the delivery, a transient one leaves it retrying. */
export async function recordFailed(db: Db, ids: AttemptIds, failure: { permanent: boolean; reason: string }) {
  const outcome = failure.permanent ? 'permanent_failure' : 'transient_failure';
  const status = failure.permanent ? 'failed' : 'retrying';
  await db.$executeRaw`
    WITH attempt AS (
      UPDATE delivery_attempts
      SET outcome = ${outcome}::"AttemptOutcome", error = ${failure.reason},
          finished_at = now() AT TIME ZONE 'UTC'
      WHERE id = ${ids.attemptId}::uuid
    )
    UPDATE deliveries
    SET status = ${status}::"DeliveryStatus", last_error = ${failure.reason},
        updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${ids.deliveryId}::uuid`;
}

/** What one delivery attempt needs: the delivery's state, the notification's content and the recipient. */
interface DeliveryToSend {
  id: string;
  status: string;
  providerMessageId: string | null;
  /** The attempt opened for this send; null when the delivery was already sent (nothing to do). */
  attemptId: string | null;
  notification: {
    category: string;
    title: string | null;
    body: string | null;
    template: string | null;
    data: unknown;
  };
  recipient: Recipient;
}

/**
 * Opens attempt number `attempt` of a notification's delivery on a channel, in one statement: it
 * creates the delivery when the workflow turns to a fallback channel that has none yet, marks it
 * sending, adds the attempt row, and reads the content and the recipient (active push subscriptions
 * too). A delivery already sent is only read. Undefined when the notification is gone (deleted with its
 * user).
 */
export async function openAttempt(
  db: Db,
  notificationId: string,
  channel: ChannelName,
  attempt: number,
): Promise<DeliveryToSend | undefined> {
  // A delivery created at this moment by another attempt is not in this statement's snapshot: the
  // second try sees it.
  for (let i = 0; i < 2; i++) {
    const [row] = await db.$queryRaw<DeliveryToSend[]>`
      WITH created AS (
        INSERT INTO deliveries (id, notification_id, channel, status, attempts, updated_at)
        SELECT gen_random_uuid(), n.id, ${channel}::"Channel", 'sending', 1, now() AT TIME ZONE 'UTC'
        FROM notifications n WHERE n.id = ${notificationId}::uuid
        ON CONFLICT (notification_id, channel) DO NOTHING
        RETURNING id, status, provider_message_id
      ), existing AS (
        SELECT id, status, provider_message_id FROM deliveries
        WHERE notification_id = ${notificationId}::uuid AND channel = ${channel}::"Channel"
      ), opened AS (
        UPDATE deliveries
        SET status = 'sending', attempts = attempts + 1, updated_at = now() AT TIME ZONE 'UTC'
        -- Checked again on the row as it is now: an attempt that ran meanwhile may have sent it (and a
        -- receipt may have followed).
        WHERE id = (SELECT id FROM existing) AND status <> ALL (${ACCEPTED}::"DeliveryStatus"[])
        RETURNING id
      ), delivery AS (
        SELECT id, status, provider_message_id FROM created
        UNION ALL
        SELECT id, status, provider_message_id FROM existing
      ), attempt AS (
        INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at)
        SELECT gen_random_uuid(), d.id, ${attempt}::int, now() AT TIME ZONE 'UTC'
        FROM created d
        UNION ALL
        SELECT gen_random_uuid(), o.id, ${attempt}::int, now() AT TIME ZONE 'UTC'
        FROM opened o
        RETURNING id
      )
      SELECT d.id::text AS id, d.status::text AS status, d.provider_message_id AS "providerMessageId",
        (SELECT id::text FROM attempt) AS "attemptId",
        json_build_object('category', n.category, 'title', n.title, 'body', n.body,
                          'template', n.template, 'data', n.data) AS notification,
        json_build_object(${RECIPIENT_FIELDS}) AS recipient
      FROM delivery d
      JOIN notifications n ON n.id = ${notificationId}::uuid
      JOIN users u ON u.id = n.user_id
      LIMIT 1`;
    if (row) return row;
    const exists = await db.$queryRaw<unknown[]>`
      SELECT 1 FROM notifications WHERE id = ${notificationId}::uuid`;
    if (exists.length === 0) return undefined;
  }
  throw new Error(`the ${channel} delivery of notification ${notificationId} could not be found or created`);
}

/** What a provider reported about a message it had accepted. */
export interface DeliveryReceipt {
  providerMessageId: string;
  status: ReceiptStatus;
  /** Why it was not delivered: the provider's error code and its meaning. */
  reason?: string;
}

/**
 * Applies a provider's receipt to the delivery on `channel` that the provider knows by that message id.
 * Only a `sent` delivery moves: the first receipt that settles it wins, and a late or repeated one (or
 * one about a delivery Herald never recorded) changes nothing. `known` says whether such a delivery exists.
 */
export async function recordReceipt(
  db: Db,
  channel: ChannelName,
  receipt: DeliveryReceipt,
): Promise<{ known: boolean; changed: boolean }> {
  const [row] = await db.$queryRaw<{ known: boolean; changed: boolean }[]>`
    WITH changed AS (
      UPDATE deliveries
      SET status = ${receipt.status}::"DeliveryStatus", last_error = ${receipt.reason ?? null},
          updated_at = now() AT TIME ZONE 'UTC'
      WHERE channel = ${channel}::"Channel" AND provider_message_id = ${receipt.providerMessageId}
        AND status = 'sent'
      RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM changed) AS changed,
      EXISTS (
        SELECT 1 FROM deliveries
        WHERE channel = ${channel}::"Channel" AND provider_message_id = ${receipt.providerMessageId}
      ) AS known`;
  return row ?? { known: false, changed: false };
}
