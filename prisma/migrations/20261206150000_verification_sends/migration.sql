-- Each verification code sent by the bot, so codes to one address or from one user can be capped per day.
-- No foreign key: the count for an address outlives the user who asked.
CREATE TABLE "verification_sends" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "address_hash" TEXT NOT NULL,
    "sent_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verification_sends_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "verification_sends_address_hash_sent_at_idx" ON "verification_sends"("address_hash", "sent_at");
CREATE INDEX "verification_sends_user_id_sent_at_idx" ON "verification_sends"("user_id", "sent_at");
