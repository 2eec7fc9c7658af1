-- Contacts move from one column per channel on users to one row per (user, channel): a new channel
-- needs no column, only its value in the Channel enum.
CREATE TABLE "contacts" (
    "user_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "address" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("user_id","channel")
);

CREATE INDEX "contacts_channel_address_idx" ON "contacts"("channel", "address");

ALTER TABLE "contacts" ADD CONSTRAINT "contacts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

INSERT INTO "contacts" ("user_id", "channel", "address", "created_at", "updated_at")
SELECT "id", 'email'::"Channel", "email", "created_at", "updated_at" FROM "users" WHERE "email" IS NOT NULL
UNION ALL
SELECT "id", 'sms'::"Channel", "phone", "created_at", "updated_at" FROM "users" WHERE "phone" IS NOT NULL
UNION ALL
SELECT "id", 'telegram'::"Channel", "telegram_chat_id", "created_at", "updated_at" FROM "users" WHERE "telegram_chat_id" IS NOT NULL;

DROP INDEX "users_telegram_chat_id_idx";

ALTER TABLE "users" DROP COLUMN "email",
DROP COLUMN "phone",
DROP COLUMN "telegram_chat_id";
