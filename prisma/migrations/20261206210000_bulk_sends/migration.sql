-- Bulk sends (issue 19): one row per bulk request that recorded notifications, holding their ids in the
-- order given, so that the fan-out workflow carries only this row's id and reads the ids a page at a time.
CREATE TABLE "bulk_sends" (
    "id" UUID NOT NULL,
    "notification_ids" UUID[] NOT NULL,
    "request_id" TEXT,
    "source" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bulk_sends_pkey" PRIMARY KEY ("id")
);
