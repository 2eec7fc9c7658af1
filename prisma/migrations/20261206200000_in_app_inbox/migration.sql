-- The in-app inbox (issue 17): the `in_app` channel, what it stores for each user, and when the
-- recipient read or clicked a delivery.
ALTER TYPE "Channel" ADD VALUE 'in_app';

ALTER TABLE "deliveries" ADD COLUMN "read_at" TIMESTAMP(3),
ADD COLUMN "clicked_at" TIMESTAMP(3);

-- One row per user with an inbox: the counter that numbers its messages (taken under the row's lock,
-- so a user's messages commit in the order of their numbers) and the version its tokens must carry.
CREATE TABLE "inboxes" (
    "user_id" UUID NOT NULL,
    "last_seq" INTEGER NOT NULL DEFAULT 0,
    "token_version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "inboxes_pkey" PRIMARY KEY ("user_id")
);

CREATE TABLE "inbox_messages" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "notification_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "category" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "url" TEXT,
    "actions" JSONB NOT NULL DEFAULT '[]',
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMP(3),
    "read_at" TIMESTAMP(3),
    "archived_at" TIMESTAMP(3),

    CONSTRAINT "inbox_messages_pkey" PRIMARY KEY ("id")
);

-- A retried delivery finds the message it stored: one per notification.
CREATE UNIQUE INDEX "inbox_messages_notification_id_key" ON "inbox_messages"("notification_id");
-- The feed, newest first, and a stream's catch-up after Last-Event-ID.
CREATE UNIQUE INDEX "inbox_messages_user_id_seq_key" ON "inbox_messages"("user_id", "seq");
-- The badge: a user's unread messages, without reading the ones already read.
CREATE INDEX "inbox_messages_unread_idx" ON "inbox_messages"("user_id") WHERE "read_at" IS NULL AND "archived_at" IS NULL;
-- Retention: read or archived messages by age.
CREATE INDEX "inbox_messages_retention_idx" ON "inbox_messages"("created_at") WHERE "read_at" IS NOT NULL OR "archived_at" IS NOT NULL;

ALTER TABLE "inboxes" ADD CONSTRAINT "inboxes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "inbox_messages" ADD CONSTRAINT "inbox_messages_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "inbox_messages" ADD CONSTRAINT "inbox_messages_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "notifications"("id") ON DELETE CASCADE ON UPDATE CASCADE;
