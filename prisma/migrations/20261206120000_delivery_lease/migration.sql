-- A delivery attempt holds a lease on its delivery until it records how it ended, or until the lease
-- runs out (its time budget plus a margin). Another attempt does not send while the lease holds, so
-- a retry never overlaps an attempt that may still be talking to the provider. Rows from before have
-- no lease: nothing holds them.
ALTER TABLE "deliveries" ADD COLUMN "lease_until" TIMESTAMP(3);
ALTER TABLE "deliveries" ADD COLUMN "lease_attempt_id" UUID;
