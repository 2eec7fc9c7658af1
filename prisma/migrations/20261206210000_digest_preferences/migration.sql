-- Per-category digest preferences (issue 18): each as it comes (off), hourly, or daily at a local hour.
CREATE TYPE "DigestMode" AS ENUM ('off', 'hourly', 'daily');

CREATE TABLE "digest_preferences" (
    "user_id" UUID NOT NULL,
    "category" TEXT NOT NULL,
    "mode" "DigestMode" NOT NULL,
    "hour" INTEGER,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "digest_preferences_pkey" PRIMARY KEY ("user_id","category"),
    -- A daily digest has its hour (0-23), the other modes have none.
    CONSTRAINT "digest_preferences_hour_check" CHECK (
        ("mode" = 'daily' AND "hour" IS NOT NULL AND "hour" BETWEEN 0 AND 23) OR ("mode" <> 'daily' AND "hour" IS NULL)
    )
);

ALTER TABLE "digest_preferences" ADD CONSTRAINT "digest_preferences_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
