-- Notification flows (issue 18, docs/flows.md): flows with immutable versions, a notification's pinned
-- flow version and cancellation key, digest membership, and the throttle step's counter.
ALTER TYPE "NotificationStatus" ADD VALUE 'digested';

ALTER TABLE "notifications" ADD COLUMN "flow_key" TEXT,
ADD COLUMN "flow_version" INTEGER,
ADD COLUMN "flow_start_step" INTEGER,
ADD COLUMN "flow_trace" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "cancellation_key" TEXT,
ADD COLUMN "digest_workflow_id" TEXT,
ADD COLUMN "digest_id" UUID;

CREATE INDEX "notifications_cancellation_key_idx" ON "notifications"("cancellation_key");
CREATE INDEX "notifications_digest_id_idx" ON "notifications"("digest_id");

CREATE TABLE "flows" (
    "key" TEXT NOT NULL,
    "name" TEXT,
    "current_version" INTEGER NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "flows_pkey" PRIMARY KEY ("key")
);

CREATE TABLE "flow_versions" (
    "flow_key" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "steps" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flow_versions_pkey" PRIMARY KEY ("flow_key","version")
);

ALTER TABLE "flow_versions" ADD CONSTRAINT "flow_versions_flow_key_fkey" FOREIGN KEY ("flow_key") REFERENCES "flows"("key") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "flow_throttle_hits" (
    "notification_id" UUID NOT NULL,
    "throttle_key" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flow_throttle_hits_pkey" PRIMARY KEY ("notification_id","throttle_key")
);

CREATE INDEX "flow_throttle_hits_throttle_key_at_idx" ON "flow_throttle_hits"("throttle_key", "at");
