-- The reason the caller gave when cancelling a broadcast: the recipients its row stops (at their delivery
-- attempt) end with it rather than a generic one. NULL when none was given or the cancel came from Temporal.
ALTER TABLE "broadcasts" ADD COLUMN "cancel_reason" TEXT;
