-- The preference center: an audit of opt-outs made through an email's unsubscribe link.
-- CreateTable
CREATE TABLE "unsubscribe_events" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "category" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "method" TEXT NOT NULL,
    "notification_id" UUID,
    "user_agent" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "unsubscribe_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "unsubscribe_events_user_id_created_at_idx" ON "unsubscribe_events"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "unsubscribe_events" ADD CONSTRAINT "unsubscribe_events_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

