-- Acknowledgements: a notification may ask its recipient to acknowledge it (a Telegram button, a signed
-- link, an in-app action). The first acknowledgement of each delivery is recorded on it. (No apostrophes
-- in these comments: the migration runner splits statements with a scanner that takes one for a string.)
ALTER TABLE "notifications" ADD COLUMN "ack" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "deliveries" ADD COLUMN "acknowledged_at" TIMESTAMP(3);
-- The inbox shows an acknowledge action on messages sent with one.
ALTER TABLE "inbox_messages" ADD COLUMN "ack_requested" BOOLEAN NOT NULL DEFAULT false;
