// Flows and their immutable versions, the throttle step's counter, and what cancellation keys reach.
import type { Db } from './db.js';
import type { Step } from '../workflows/flows/steps.js';

export interface FlowRow {
  key: string;
  name: string | null;
  currentVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The flow, unless deleted, with its current steps. */
export async function findFlow(db: Db, key: string): Promise<(FlowRow & { steps: Step[] }) | undefined> {
  const flow = await db.flow.findFirst({ where: { key, deletedAt: null } });
  if (!flow) return undefined;
  const version = await db.flowVersion.findUniqueOrThrow({
    where: { flowKey_version: { flowKey: key, version: flow.currentVersion } },
  });
  return { ...flow, steps: version.steps as unknown as Step[] };
}

/** A version's steps: kept while any notification may run them, a deleted flow's too. */
export async function findFlowVersion(db: Db, key: string, version: number): Promise<Step[] | undefined> {
  const row = await db.flowVersion.findUnique({ where: { flowKey_version: { flowKey: key, version } } });
  return row ? (row.steps as unknown as Step[]) : undefined;
}

/**
 * Stores the steps as the flow's next version in one statement (concurrent writers take turns on the
 * flow's row); a deleted flow comes back with it.
 */
export async function addFlowVersion(
  db: Db,
  key: string,
  name: string | null,
  steps: Step[],
): Promise<number> {
  const [row] = await db.$queryRaw<{ version: number }[]>`
    WITH flow AS (
      INSERT INTO flows (key, name, current_version, created_at, updated_at)
      VALUES (${key}, ${name}, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
      ON CONFLICT (key) DO UPDATE SET current_version = flows.current_version + 1,
        name = COALESCE(EXCLUDED.name, flows.name), deleted_at = NULL, updated_at = EXCLUDED.updated_at
      RETURNING key, current_version
    )
    INSERT INTO flow_versions (flow_key, version, steps, created_at)
    SELECT key, current_version, ${JSON.stringify(steps)}::jsonb, now() AT TIME ZONE 'UTC' FROM flow
    RETURNING version`;
  return row!.version;
}

export async function renameFlow(db: Db, key: string, name: string): Promise<void> {
  await db.flow.updateMany({ where: { key, deletedAt: null }, data: { name } });
}

export async function listFlows(db: Db): Promise<FlowRow[]> {
  return db.flow.findMany({ where: { deletedAt: null }, orderBy: { key: 'asc' } });
}

export async function listFlowVersions(db: Db, key: string) {
  return db.flowVersion.findMany({ where: { flowKey: key }, orderBy: { version: 'desc' } });
}

/** Marks the flow deleted; its versions stay for the notifications running them. False when absent. */
export async function markFlowDeleted(db: Db, key: string): Promise<boolean> {
  const { count } = await db.flow.updateMany({
    where: { key, deletedAt: null },
    data: { deletedAt: new Date() },
  });
  return count > 0;
}

/**
 * Counts this notification in the throttle's window unless `limit` others are already there. One lock
 * per throttle key orders concurrent notifications; a retried call finds its own hit and passes again.
 */
export async function passThrottle(
  db: Db,
  hit: { notificationId: string; throttleKey: string; limit: number; windowMs: number },
): Promise<boolean> {
  // One batch in one transaction; each statement sees what committed before the lock was granted.
  const [, , [counted]] = await db.$transaction([
    db.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtextextended(${hit.throttleKey}, 0))) l`,
    db.$executeRaw`
      INSERT INTO flow_throttle_hits (notification_id, throttle_key, at)
      SELECT ${hit.notificationId}::uuid, ${hit.throttleKey}, now() AT TIME ZONE 'UTC'
      WHERE (SELECT count(*) FROM flow_throttle_hits
             WHERE throttle_key = ${hit.throttleKey}
               AND at > (now() AT TIME ZONE 'UTC') - make_interval(secs => ${hit.windowMs / 1000})) < ${hit.limit}
      ON CONFLICT (notification_id, throttle_key) DO NOTHING`,
    db.$queryRaw<{ passed: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM flow_throttle_hits
        WHERE notification_id = ${hit.notificationId}::uuid AND throttle_key = ${hit.throttleKey}) AS passed`,
  ]);
  return Boolean((counted as { passed: boolean } | undefined)?.passed);
}
