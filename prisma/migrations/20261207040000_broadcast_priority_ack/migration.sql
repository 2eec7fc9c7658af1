-- A broadcast is a campaign: its recipients' notifications are low priority unless the caller asks, and
-- they carry the broadcast's acknowledgement request as a single notification does.
ALTER TABLE "broadcasts" ADD COLUMN "priority" "NotificationPriority" NOT NULL DEFAULT 'low';
ALTER TABLE "broadcasts" ADD COLUMN "ack" BOOLEAN NOT NULL DEFAULT false;
