-- Per-user link version: preference and unsubscribe links carry it signed, and a link older than the
-- user's current version is refused. Existing links carry none and count as 0, so they keep working
-- until the user's links are revoked.
ALTER TABLE "users" ADD COLUMN "link_version" INTEGER NOT NULL DEFAULT 0;
