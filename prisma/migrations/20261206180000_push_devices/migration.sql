-- Native mobile push on the push channel: FCM and APNs registration tokens, several per user, beside the
-- browser subscriptions. A token the provider calls gone is deactivated, never deleted, for audit.
CREATE TYPE "PushProvider" AS ENUM ('fcm', 'apns');

CREATE TABLE "push_devices" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "provider" "PushProvider" NOT NULL,
    "token" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivated_at" TIMESTAMP(3),

    CONSTRAINT "push_devices_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "push_devices_user_id_idx" ON "push_devices"("user_id");

-- A token names one app on one phone: it belongs to whoever registered it last.
CREATE UNIQUE INDEX "push_devices_provider_token_key" ON "push_devices"("provider", "token");

ALTER TABLE "push_devices" ADD CONSTRAINT "push_devices_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
