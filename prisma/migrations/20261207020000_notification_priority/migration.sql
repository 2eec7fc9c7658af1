-- How urgent a notification is (issue 19). A constant default is stored in the catalogue, not written to
-- every row, so adding the column to a large table takes no rewrite and no long lock.
CREATE TYPE "NotificationPriority" AS ENUM ('high', 'normal', 'low');

ALTER TABLE "notifications" ADD COLUMN "priority" "NotificationPriority" NOT NULL DEFAULT 'normal';
