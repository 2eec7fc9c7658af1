// A delivery's attempts: opening one, and recording how it ended (the provider's receipt that may follow
// is in delivery-receipts.ts).
// Each write is one SQL statement: the attempt row and the delivery row change together, atomically, with
// no transaction. A `$transaction([...])` of two Prisma writes costs two query compilations, BEGIN and
// COMMIT, and a wait for a connection of its own that fails (P2028) after 2 s when many deliveries run at
// once; see bench/README.md. Timestamps are written as Prisma writes them: UTC in `timestamp(3)` columns.
import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';
import { ACCEPTED_STATUSES, type ChannelName } from '../workflows/definitions.js';
import type { Recipient } from '../activities/channels/registry.js';
import { RECIPIENT_FIELDS } from './recipients.js';
import { broadcastCancelledSql } from './broadcasts.js';
import { applyKeptReceipt, CHANNELS_WITH_RECEIPTS } from './delivery-receipts.js';

const ACCEPTED: string[] = [...ACCEPTED_STATUSES];
const KEPT_ON_FAILURE: string[] = [...ACCEPTED_STATUSES, 'cancelled'];

export interface AttemptIds {
  attemptId: string;
  deliveryId: string;
}

/**
 * Closes the attempt as sent, and the delivery with it; the attempt's lease ends. A receipt for the
 * provider's message id that came before this record (kept in early_receipts) settles the delivery in the
 * same statement and goes, as it would have had it come after; recordReceipt (delivery-receipts.ts) says
 * why a second look follows.
 */
export async function recordSent(db: Db, ids: AttemptIds, providerMessageId: string | undefined) {
  const [row] = await db.$queryRaw<{ channel: ChannelName | null; settled: boolean }[]>`
    WITH attempt AS (
      UPDATE delivery_attempts
      SET outcome = 'sent', finished_at = now() AT TIME ZONE 'UTC'
      WHERE id = ${ids.attemptId}::uuid
    ), kept AS (
      -- A receipt that beat this record: recordReceipt kept it for this moment.
      DELETE FROM early_receipts e USING deliveries d
      WHERE d.id = ${ids.deliveryId}::uuid AND e.channel = d.channel
        AND e.provider_message_id = ${providerMessageId ?? null}
      RETURNING e.status, e.reason
    ), sent AS (
      UPDATE deliveries
      SET status = COALESCE((SELECT status FROM kept), 'sent'),
          provider_message_id = ${providerMessageId ?? null},
          last_error = (SELECT reason FROM kept),
          sent_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC',
          lease_until = CASE WHEN lease_attempt_id = ${ids.attemptId}::uuid THEN NULL ELSE lease_until END
      WHERE id = ${ids.deliveryId}::uuid
      RETURNING channel
    )
    SELECT (SELECT channel::text FROM sent) AS channel, EXISTS (SELECT 1 FROM kept) AS settled`;
  // A receipt kept while this statement ran was not in its snapshot: look again now that it committed.
  if (providerMessageId && row?.channel && !row.settled && CHANNELS_WITH_RECEIPTS.includes(row.channel))
    await applyKeptReceipt(db, row.channel, providerMessageId);
}

/**
 * Closes the attempt as failed: a permanent failure fails the delivery, a transient one leaves it
 * retrying; the attempt's lease ends. A delivery sent (with any receipt since) or cancelled meanwhile
 * keeps that status: an attempt aborted because the notification was cancelled ends after the cancel
 * was recorded.
 */
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
    SET status = CASE WHEN status = ANY (${KEPT_ON_FAILURE}::"DeliveryStatus"[]) THEN status
                      ELSE ${status}::"DeliveryStatus" END,
        last_error = CASE WHEN status = ANY (${KEPT_ON_FAILURE}::"DeliveryStatus"[]) THEN last_error
                          ELSE ${failure.reason} END,
        updated_at = now() AT TIME ZONE 'UTC',
        lease_until = CASE WHEN lease_attempt_id = ${ids.attemptId}::uuid THEN NULL ELSE lease_until END
    WHERE id = ${ids.deliveryId}::uuid`;
}

/** What one delivery attempt needs: the delivery's state, the notification's content and the recipient. */
interface DeliveryToSend {
  id: string;
  status: string;
  providerMessageId: string | null;
  /**
   * The attempt opened for this send. Null when nothing may be sent: the delivery was already sent, or
   * another attempt holds its lease.
   */
  attemptId: string | null;
  /** How long the other attempt's lease still holds, when it is what kept this one from opening. */
  leaseRemainingMs: number | null;
  notification: {
    category: string;
    title: string | null;
    body: string | null;
    template: string | null;
    data: unknown;
  };
  recipient: Recipient;
}

/** Nothing was opened: the notification belongs to a broadcast that was cancelled. */
export const BROADCAST_CANCELLED = { broadcastCancelled: true } as const;

/**
 * Opens attempt number `attempt` of a notification's delivery on a channel, in one statement: it
 * creates the delivery when the workflow turns to a fallback channel that has none yet, marks it
 * sending under a lease of `leaseMs` held by the new attempt, adds the attempt row, and reads the
 * content and the recipient (active push subscriptions too). A delivery already sent, or leased by an
 * attempt that may still be talking to the provider, is only read. Undefined when the notification is
 * gone (deleted with its user).
 *
 * A broadcast's cancel is final here: when the notification's broadcast is `cancelled` in this
 * statement's snapshot, nothing is created or opened and BROADCAST_CANCELLED comes back (unless the
 * delivery was sent before). So an attempt either opened in a statement that began before the cancel
 * was committed (its started_at is earlier), or never opens: none opens after the cancel's answer. For a notification of no
 * broadcast (broadcast_id NULL) the check is one primary-key read of the notification.
 */
export async function openAttempt(
  db: Db,
  notificationId: string,
  channel: ChannelName,
  attempt: number,
  leaseMs: number,
): Promise<DeliveryToSend | typeof BROADCAST_CANCELLED | undefined> {
  // Chosen here so that the lease can name the attempt holding it, in the same statement.
  const attemptId = randomUUID();
  // A delivery created at this moment by another attempt is not in this statement's snapshot: the
  // second try sees it.
  for (let i = 0; i < 2; i++) {
    const [row] = await db.$queryRaw<(DeliveryToSend & { broadcastCancelled: boolean })[]>`
      WITH stopped AS (
        SELECT ${broadcastCancelledSql(notificationId)} AS cancelled
      ), created AS (
        INSERT INTO deliveries (id, notification_id, channel, status, attempts, lease_until,
                                lease_attempt_id, updated_at)
        SELECT gen_random_uuid(), n.id, ${channel}::"Channel", 'sending', 1,
          now() AT TIME ZONE 'UTC' + ${leaseMs}::int * interval '1 millisecond', ${attemptId}::uuid,
          now() AT TIME ZONE 'UTC'
        FROM notifications n WHERE n.id = ${notificationId}::uuid AND NOT (SELECT cancelled FROM stopped)
        ON CONFLICT (notification_id, channel) DO NOTHING
        RETURNING id, status, provider_message_id, NULL::timestamp(3) AS lease_until
      ), existing AS (
        -- Locked and read as committed now, not as this statement's snapshot had it: an attempt that
        -- opened or sent meanwhile is seen.
        SELECT id, status, provider_message_id, lease_until FROM deliveries
        WHERE notification_id = ${notificationId}::uuid AND channel = ${channel}::"Channel"
        FOR UPDATE
      ), opened AS (
        UPDATE deliveries
        SET status = 'sending', attempts = attempts + 1, updated_at = now() AT TIME ZONE 'UTC',
            lease_until = now() AT TIME ZONE 'UTC' + ${leaseMs}::int * interval '1 millisecond',
            lease_attempt_id = ${attemptId}::uuid
        -- Sent, perhaps with a receipt since: never sent again.
        WHERE id = (SELECT id FROM existing) AND status <> ALL (${ACCEPTED}::"DeliveryStatus"[])
          -- Whatever the status says (the workflow may have marked it failed meanwhile), an unexpired
          -- lease means an attempt may still be talking to the provider.
          AND (lease_until IS NULL OR lease_until <= now() AT TIME ZONE 'UTC')
          AND NOT (SELECT cancelled FROM stopped)
        RETURNING id
      ), delivery AS (
        SELECT id, status, provider_message_id, lease_until FROM created
        UNION ALL
        SELECT id, status, provider_message_id, lease_until FROM existing
      ), attempt AS (
        INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at)
        SELECT ${attemptId}::uuid, d.id, ${attempt}::int, now() AT TIME ZONE 'UTC'
        FROM created d
        UNION ALL
        SELECT ${attemptId}::uuid, o.id, ${attempt}::int, now() AT TIME ZONE 'UTC'
        FROM opened o
        RETURNING id
      )
      SELECT d.id::text AS id, d.status::text AS status, d.provider_message_id AS "providerMessageId",
        (SELECT id::text FROM attempt) AS "attemptId",
        CASE WHEN NOT EXISTS (SELECT 1 FROM attempt) AND d.lease_until > now() AT TIME ZONE 'UTC'
          THEN ceil(extract(epoch FROM d.lease_until - now() AT TIME ZONE 'UTC') * 1000)::int
        END AS "leaseRemainingMs",
        json_build_object('category', n.category, 'title', n.title, 'body', n.body,
                          'template', n.template, 'data', n.data) AS notification,
        json_build_object(${RECIPIENT_FIELDS}) AS recipient,
        (SELECT cancelled FROM stopped) AS "broadcastCancelled"
      FROM delivery d
      JOIN notifications n ON n.id = ${notificationId}::uuid
      JOIN users u ON u.id = n.user_id
      LIMIT 1`;
    if (row) {
      const { broadcastCancelled, ...delivery } = row;
      // A delivery the provider accepted before the cancel stays sent.
      return broadcastCancelled && !ACCEPTED.includes(delivery.status) ? BROADCAST_CANCELLED : delivery;
    }
    // No delivery row: none was created (another attempt is creating it, or the broadcast was cancelled).
    const [found] = await db.$queryRaw<{ exists: boolean; broadcastCancelled: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM notifications WHERE id = ${notificationId}::uuid) AS exists,
        ${broadcastCancelledSql(notificationId)} AS "broadcastCancelled"`;
    if (!found?.exists) return undefined;
    if (found.broadcastCancelled) return BROADCAST_CANCELLED;
  }
  throw new Error(`the ${channel} delivery of notification ${notificationId} could not be found or created`);
}
