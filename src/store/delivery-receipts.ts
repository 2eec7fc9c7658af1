// A provider's receipts for messages it accepted (Twilio's status callbacks): each settles the delivery
// the provider knows by its message id, or waits in early_receipts for that delivery's send to be recorded.
// One statement per write, no transaction, as in deliveries.ts.
import type { Db } from './db.js';
import type { ChannelName, ReceiptStatus } from '../workflows/definitions.js';

/** The channels whose provider reports later what became of a message (Twilio's status callbacks). */
export const CHANNELS_WITH_RECEIPTS: readonly ChannelName[] = ['sms'];

/** What a provider reported about a message it had accepted. */
export interface DeliveryReceipt {
  providerMessageId: string;
  status: ReceiptStatus;
  /** Why it was not delivered: the provider's error code and its meaning. */
  reason?: string;
}

/**
 * Applies a provider's receipt to the delivery on `channel` that the provider knows by that message id.
 * Only a `sent` delivery moves: the first receipt that settles it wins, and a late or repeated one
 * changes nothing. `known` says whether such a delivery exists. With none (yet), the receipt is kept in
 * early_receipts for the send's record to apply (`kept`, perhaps only for a moment: the record may have
 * applied it already; false when one for that message waits already: the first wins there too).
 *
 * The receipt and the send's record can race, under READ COMMITTED, without a transaction: a statement
 * does not see what another commits while it runs. So each side writes its own fact first, in a statement
 * that commits, and then looks for the other's in a later statement (applyKeptReceipt): the receipt keeps
 * itself, then looks for the delivery; recordSent writes the message id, then looks for a kept receipt.
 * Whichever side's write committed second, its later look starts after both writes are committed and
 * sees the other's: one of them always finds the pair. Both may find it: the receipt is applied by the
 * one whose DELETE of its row wins (the other waits for that row's lock and then finds it gone). An
 * advisory lock would serialise the two as well, but needs a transaction on every SMS send (its BEGIN,
 * COMMIT and connection wait: see the top of deliveries.ts); this costs an SMS send one more statement (a
 * primary-key lookup in an almost empty table) and an early receipt one more. A worker that dies between
 * recordSent's two statements leaves the look to the activity's retry, which finds the delivery sent
 * (src/activities/deliver.ts); an API that dies between the receipt's two leaves it to the hourly
 * retention run (applyMatchedKeptReceipts).
 */
export async function recordReceipt(
  db: Db,
  channel: ChannelName,
  receipt: DeliveryReceipt,
): Promise<{ known: boolean; changed: boolean; kept: boolean }> {
  const [row] = await db.$queryRaw<{ known: boolean; changed: boolean; kept: boolean }[]>`
    WITH changed AS (
      UPDATE deliveries
      SET status = ${receipt.status}::"DeliveryStatus", last_error = ${receipt.reason ?? null},
          updated_at = now() AT TIME ZONE 'UTC'
      WHERE channel = ${channel}::"Channel" AND provider_message_id = ${receipt.providerMessageId}
        AND status = 'sent'
      RETURNING id
    ), known AS (
      SELECT EXISTS (
        SELECT 1 FROM deliveries
        WHERE channel = ${channel}::"Channel" AND provider_message_id = ${receipt.providerMessageId}
      ) AS known
    ), kept AS (
      INSERT INTO early_receipts (channel, provider_message_id, status, reason, received_at)
      SELECT ${channel}::"Channel", ${receipt.providerMessageId}, ${receipt.status}::"DeliveryStatus",
        ${receipt.reason ?? null}, now() AT TIME ZONE 'UTC'
      WHERE NOT (SELECT known FROM known)
      ON CONFLICT (channel, provider_message_id) DO NOTHING
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM changed) AS changed, (SELECT known FROM known) AS known,
      EXISTS (SELECT 1 FROM kept) AS kept`;
  const first = row ?? { known: false, changed: false, kept: false };
  if (first.known) return first;
  // Kept (or one was kept before): a send recorded while that statement ran is seen now.
  const again = await applyKeptReceipt(db, channel, receipt.providerMessageId);
  // Kept and then found applied: the send's record, racing this look, took it first.
  return { ...again, kept: first.kept && !again.changed };
}

/**
 * Applies the receipt kept for a message id, and removes it, once a delivery on `channel` has that id;
 * only a `sent` delivery moves. Nothing happens while no delivery has it.
 */
export async function applyKeptReceipt(
  db: Db,
  channel: ChannelName,
  providerMessageId: string,
): Promise<{ known: boolean; changed: boolean }> {
  const [row] = await db.$queryRaw<{ known: boolean; changed: boolean }[]>`
    WITH known AS (
      SELECT EXISTS (
        SELECT 1 FROM deliveries
        WHERE channel = ${channel}::"Channel" AND provider_message_id = ${providerMessageId}
      ) AS known
    ), kept AS (
      DELETE FROM early_receipts
      WHERE channel = ${channel}::"Channel" AND provider_message_id = ${providerMessageId}
        AND (SELECT known FROM known)
      RETURNING status, reason
    ), changed AS (
      UPDATE deliveries d
      SET status = kept.status, last_error = kept.reason, updated_at = now() AT TIME ZONE 'UTC'
      FROM kept
      WHERE d.channel = ${channel}::"Channel" AND d.provider_message_id = ${providerMessageId}
        AND d.status = 'sent'
      RETURNING d.id
    )
    SELECT EXISTS (SELECT 1 FROM changed) AS changed, (SELECT known FROM known) AS known`;
  return row ?? { known: false, changed: false };
}

/**
 * Applies, and removes, at most `limit` kept receipts whose delivery has their message id by now: the
 * hourly retention run's sweep for a pair both of whose looks were lost (the API died between keeping a
 * receipt and its second look, while the send was recorded). Returns how many it removed.
 */
export async function applyMatchedKeptReceipts(db: Db, limit: number): Promise<number> {
  const [{ applied }] = await db.$queryRaw<[{ applied: number }]>`
    WITH matched AS (
      SELECT e.channel, e.provider_message_id FROM early_receipts e
      WHERE EXISTS (
        SELECT 1 FROM deliveries d
        WHERE d.channel = e.channel AND d.provider_message_id = e.provider_message_id
      )
      LIMIT ${limit}
      FOR UPDATE OF e SKIP LOCKED
    ), kept AS (
      DELETE FROM early_receipts e USING matched m
      WHERE e.channel = m.channel AND e.provider_message_id = m.provider_message_id
      RETURNING e.channel, e.provider_message_id, e.status, e.reason
    ), changed AS (
      UPDATE deliveries d
      SET status = kept.status, last_error = kept.reason, updated_at = now() AT TIME ZONE 'UTC'
      FROM kept
      WHERE d.channel = kept.channel AND d.provider_message_id = kept.provider_message_id
        AND d.status = 'sent'
      RETURNING d.id
    )
    SELECT count(*)::int AS applied FROM kept`;
  return applied;
}
