-- Delivery receipts: a provider confirms a delivery it accepted (delivered) or reports that it failed
-- after accepting it (undelivered). Adding enum values inside a transaction needs PostgreSQL 12 or later;
-- nothing in this migration uses them. (No apostrophes in these comments: the migration runner splits
-- statements with a scanner that takes one for a string.)
ALTER TYPE "DeliveryStatus" ADD VALUE 'delivered' AFTER 'sent';
ALTER TYPE "DeliveryStatus" ADD VALUE 'undelivered' AFTER 'delivered';

-- A receipt names the message id the provider gave (the Twilio Message SID): the delivery is found by
-- it, on its own channel.
CREATE INDEX "deliveries_channel_provider_message_id_idx" ON "deliveries"("channel", "provider_message_id");
