-- Early receipts: a provider receipt for a message id that no delivery has yet (the callback came before
-- the send was recorded) waits here until the send is recorded, or history retention removes it after a
-- day. One per message: the first receipt that settles a delivery wins.
CREATE TABLE "early_receipts" (
    "channel" "Channel" NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "status" "DeliveryStatus" NOT NULL,
    "reason" TEXT,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "early_receipts_pkey" PRIMARY KEY ("channel","provider_message_id")
);

-- History retention reads the oldest first.
CREATE INDEX "early_receipts_received_at_idx" ON "early_receipts"("received_at");
