// A flow's digests in the database: notifications that join one, the digest notification a closed window
// records, and withdrawing digested items by cancellation key.
import { Prisma, type Db } from './db.js';
import { workflowIdFor } from '../workflows/definitions.js';

/** Marks the notification as gone into a digest workflow's open window (before its item is signalled). */
export async function markDigested(db: Db, notificationId: string, digestWorkflowId: string): Promise<void> {
  await db.notification.updateMany({
    where: { id: notificationId, completedAt: null },
    data: { status: 'digested', digestWorkflowId, completedAt: new Date() },
  });
}

export interface DigestItem {
  id: string;
  title: string | null;
  body: string | null;
  template: string | null;
  category: string;
  data: unknown;
  source: string | null;
  cancellationKey: string | null;
  createdAt: Date;
}

/**
 * Takes the items still waiting (not withdrawn by a cancellation key) for the digest notification and
 * records it, in one transaction; a retry finds the items it took and the row it wrote. Undefined when
 * every item was withdrawn: an emptied digest sends nothing.
 */
export async function recordDigest(
  db: Db,
  digest: {
    id: string;
    digestWorkflowId: string;
    items: string[];
    userId: string;
    flowKey: string;
    flowVersion: number;
    startStep: number;
    render: (items: DigestItem[]) => { title: string; body: string; data: Record<string, unknown> };
  },
): Promise<{ count: number } | undefined> {
  return db.$transaction(async (tx: Prisma.TransactionClient) => {
    const items = await tx.$queryRaw<DigestItem[]>`
      UPDATE notifications SET digest_id = ${digest.id}::uuid
      WHERE id = ANY(${digest.items}::uuid[]) AND digest_workflow_id = ${digest.digestWorkflowId}
        AND status = 'digested' AND (digest_id IS NULL OR digest_id = ${digest.id}::uuid)
      RETURNING id::text, title, body, template, category, data, source,
        cancellation_key AS "cancellationKey", created_at AS "createdAt"`;
    if (items.length === 0) return undefined;
    const cancellationKey = sharedCancellationKey(items);
    items.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
    const { title, body, data } = digest.render(items);
    await tx.$executeRaw`
      INSERT INTO notifications (id, user_id, category, title, body, data, channels, fallback, status,
        workflow_id, source, flow_key, flow_version, flow_start_step, cancellation_key, created_at, updated_at)
      VALUES (${digest.id}::uuid, ${digest.userId}::uuid, ${items[0]!.category}, ${title}, ${body},
        ${JSON.stringify(data)}::jsonb, '{}'::"Channel"[], false, 'accepted', ${workflowIdFor(digest.id)},
        ${items[0]!.source}, ${digest.flowKey}, ${digest.flowVersion}, ${digest.startStep},
        ${cancellationKey}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
      ON CONFLICT (id) DO NOTHING`;
    return { count: items.length };
  });
}

/**
 * The key a digest notification carries: its items' one cancellation key when every item has that same
 * key (cancelling the key then stops the digest's later steps too), else none: a digest that also holds
 * items the key does not name goes on, and is cancelled by its id (docs/flows.md#cancellation).
 */
function sharedCancellationKey(items: readonly DigestItem[]): string | null {
  const keys = new Set(items.map((item) => item.cancellationKey));
  return keys.size === 1 ? [...keys][0]! : null;
}

/** Notifications a cancellation key reaches: open ones (to signal) and digested items still waiting. */
export async function findByCancellationKey(db: Db, key: string, source?: string) {
  return db.notification.findMany({
    where: {
      cancellationKey: key,
      completedAt: null,
      ...(source === undefined ? {} : { source }),
    },
    select: { id: true, workflowId: true },
  });
}

/**
 * Withdraws digested items not yet in a digest notification; they end cancelled. Returns them with the
 * digest workflow each had joined, which is told so it no longer counts them (digestWithdrawSignal).
 */
export async function withdrawDigested(
  db: Db,
  key: string,
  source?: string,
): Promise<{ id: string; digestWorkflowId: string }[]> {
  return db.$queryRaw<{ id: string; digestWorkflowId: string }[]>`
    UPDATE notifications SET status = 'cancelled', updated_at = now() AT TIME ZONE 'UTC'
    WHERE cancellation_key = ${key} AND status = 'digested' AND digest_id IS NULL
      AND digest_workflow_id IS NOT NULL
      AND (${source ?? null}::text IS NULL OR source = ${source ?? null}::text)
    RETURNING id::text, digest_workflow_id AS "digestWorkflowId"`;
}
