-- A bulk send's fan-out holds this lease while it paces its starts (src/activities/fan-out-window.ts): the
-- reconciler leaves the send's notifications to it until the lease lapses (the fan-out died or ended).
ALTER TABLE "bulk_sends" ADD COLUMN "fanning_out_until" TIMESTAMP(3);
CREATE INDEX "bulk_sends_fanning_out_until_idx" ON "bulk_sends"("fanning_out_until");
