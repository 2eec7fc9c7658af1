-- Audiences (issue 19): topics, who subscribes to them, and broadcasts: one notification to every
-- subscriber of a topic, each recipient gets an ordinary notification that points back to its broadcast.
CREATE TYPE "BroadcastStatus" AS ENUM ('accepted', 'starting', 'started', 'cancelled');

CREATE TABLE "topics" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "topics_key_key" ON "topics"("key");

-- The id is a sequence: the snapshot of a broadcast is every subscription up to the largest id at its creation,
-- and its pages follow (topic_id, id).
CREATE TABLE "topic_subscriptions" (
    "id" BIGSERIAL NOT NULL,
    "topic_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topic_subscriptions_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "topic_subscriptions_topic_id_user_id_key" ON "topic_subscriptions"("topic_id", "user_id");
CREATE INDEX "topic_subscriptions_topic_id_id_idx" ON "topic_subscriptions"("topic_id", "id");
CREATE INDEX "topic_subscriptions_user_id_idx" ON "topic_subscriptions"("user_id");
ALTER TABLE "topic_subscriptions" ADD CONSTRAINT "topic_subscriptions_topic_id_fkey"
    FOREIGN KEY ("topic_id") REFERENCES "topics"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "topic_subscriptions" ADD CONSTRAINT "topic_subscriptions_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "broadcasts" (
    "id" UUID NOT NULL,
    "topic_id" UUID NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "category" TEXT NOT NULL,
    "title" TEXT,
    "body" TEXT,
    "template" TEXT,
    "data" JSONB NOT NULL DEFAULT '{}',
    "channels" "Channel"[],
    "fallback" BOOLEAN NOT NULL DEFAULT false,
    "send_at" TIMESTAMP(3),
    "status" "BroadcastStatus" NOT NULL DEFAULT 'accepted',
    "snapshot_subscription_id" BIGINT NOT NULL,
    "recipients" INTEGER NOT NULL,
    "started" INTEGER NOT NULL DEFAULT 0,
    "workflow_id" TEXT NOT NULL,
    "request_id" TEXT,
    "source" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "completed_at" TIMESTAMP(3),

    CONSTRAINT "broadcasts_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "broadcasts_idempotency_key_key" ON "broadcasts"("idempotency_key");
CREATE UNIQUE INDEX "broadcasts_workflow_id_key" ON "broadcasts"("workflow_id");
CREATE INDEX "broadcasts_status_created_at_idx" ON "broadcasts"("status", "created_at");
ALTER TABLE "broadcasts" ADD CONSTRAINT "broadcasts_topic_id_fkey"
    FOREIGN KEY ("topic_id") REFERENCES "topics"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "notifications" ADD COLUMN "broadcast_id" UUID;
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_broadcast_id_fkey"
    FOREIGN KEY ("broadcast_id") REFERENCES "broadcasts"("id") ON DELETE SET NULL ON UPDATE CASCADE;
-- A broadcast progress counts its recipients by status. Partial: the notifications of single sends
-- (most of them) carry no entry and cost no index write.
CREATE INDEX "notifications_broadcast_id_status_idx" ON "notifications"("broadcast_id", "status")
    WHERE "broadcast_id" IS NOT NULL;
