-- Listings read newest first with the id breaking ties (GET /v1/notifications, the bot's /status): each
-- index ends in (created_at, id), so a page is read in order from an index instead of sorting a scan of
-- the table. The new ones are built before the ones they replace are dropped.
CREATE INDEX "notifications_created_at_id_idx" ON "notifications"("created_at", "id");
CREATE INDEX "notifications_user_id_created_at_id_idx" ON "notifications"("user_id", "created_at", "id");
CREATE INDEX "notifications_status_created_at_id_idx" ON "notifications"("status", "created_at", "id");
CREATE INDEX "notifications_source_created_at_id_idx" ON "notifications"("source", "created_at", "id");
CREATE INDEX "notifications_category_created_at_id_idx" ON "notifications"("category", "created_at", "id");

-- The bot's /status also lists what a user sent to others with /send (source 'bot', data.sentBy). Prisma's
-- schema cannot declare an expression index, so this one lives here only.
CREATE INDEX "notifications_bot_sender_created_at_id_idx"
  ON "notifications"(("data" ->> 'sentBy'), "created_at", "id") WHERE "source" = 'bot';

DROP INDEX "notifications_user_id_created_at_idx";
DROP INDEX "notifications_status_created_at_idx";
DROP INDEX "notifications_source_created_at_idx";
