// A provider's receipt for a message it accepted: it settles the delivery as `delivered` or `undelivered`.
// It changes the delivery's row only: the notification's status and its workflow (which may have closed)
// stay as they are, since they say what Herald did, which was to hand the message over.
import type { ChannelName } from '../workflows/definitions.js';
import { recordReceipt, type DeliveryReceipt } from '../store/deliveries.js';
import type { Db } from '../store/db.js';

export type { DeliveryReceipt };

/**
 * `recorded`: the delivery moved from sent. `unchanged`: it had settled already (receipts come out of
 * order and repeated: the first settling one wins). `unknown`: no delivery on the channel has that id
 * (a bot verification code, a send Herald never recorded, another deployment's message).
 */
export type ReceiptOutcome = 'recorded' | 'unchanged' | 'unknown';

export async function recordDeliveryReceipt(
  db: Db,
  channel: ChannelName,
  receipt: DeliveryReceipt,
): Promise<ReceiptOutcome> {
  const { known, changed } = await recordReceipt(db, channel, receipt);
  return changed ? 'recorded' : known ? 'unchanged' : 'unknown';
}
