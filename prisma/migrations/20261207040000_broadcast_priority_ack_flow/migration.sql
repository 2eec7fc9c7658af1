-- A broadcast is a campaign: its recipients' notifications are low priority unless the caller asks, and
-- they carry the broadcast's acknowledgement request as a single notification does.
ALTER TABLE "broadcasts" ADD COLUMN "priority" "NotificationPriority" NOT NULL DEFAULT 'low';
ALTER TABLE "broadcasts" ADD COLUMN "ack" BOOLEAN NOT NULL DEFAULT false;
-- Flows apply per recipient: a broadcast pins its flow's version once, and each recipient's notification
-- runs it and carries the broadcast's cancellation key.
ALTER TABLE "broadcasts" ADD COLUMN "flow_key" TEXT;
ALTER TABLE "broadcasts" ADD COLUMN "flow_version" INTEGER;
ALTER TABLE "broadcasts" ADD COLUMN "cancellation_key" TEXT;
