// A provider's receipt for a message it accepted: it settles the delivery as `delivered` or `undelivered`.
// It changes the delivery's row only: the notification's status and its workflow (which may have closed)
// stay as they are, since they say what Herald did, which was to hand the message over. One that comes
// before the send was recorded waits for that record (src/store/delivery-receipts.ts).
import type { ChannelName } from '../workflows/definitions.js';
import { recordReceipt, type DeliveryReceipt } from '../store/delivery-receipts.js';
import type { Db } from '../store/db.js';

export type { DeliveryReceipt };

/**
 * `recorded`: the delivery moved from sent. `unchanged`: it had settled already (receipts come out of
 * order and repeated: the first settling one wins), or a receipt for that message waits already. `kept`:
 * no delivery on the channel had that id; the receipt waits for the send's record to apply it (the
 * callback can come first; a record landing meanwhile may have applied it already), or for history
 * retention to remove it after a day (a bot verification code, a send Herald never recorded, another
 * deployment's message).
 */
export type ReceiptOutcome = 'recorded' | 'unchanged' | 'kept';

export async function recordDeliveryReceipt(
  db: Db,
  channel: ChannelName,
  receipt: DeliveryReceipt,
): Promise<ReceiptOutcome> {
  const { changed, kept } = await recordReceipt(db, channel, receipt);
  return changed ? 'recorded' : kept ? 'kept' : 'unchanged';
}
