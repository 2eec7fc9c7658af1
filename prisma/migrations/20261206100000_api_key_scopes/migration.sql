-- API keys get scopes (send, manage, admin). Keys stored before scopes existed could do everything:
-- they get admin, so nothing changes for them. Keys created from now on default to send.
ALTER TABLE "api_keys" ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT ARRAY['admin']::TEXT[];
ALTER TABLE "api_keys" ALTER COLUMN "scopes" SET DEFAULT ARRAY['send']::TEXT[];
-- Only known scopes, at least one: a key that may do nothing is a mistake, not a key.
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_scopes_check"
  CHECK (cardinality("scopes") > 0 AND "scopes" <@ ARRAY['send', 'manage', 'admin']::TEXT[]);

-- A send key lists only the notifications it created, newest first.
CREATE INDEX "notifications_source_created_at_idx" ON "notifications"("source", "created_at");
