// One notification to many recipients in one round trip: the recipients are resolved in one query, every
// notification is recorded in one statement, and a fan-out workflow starts their workflows, so the answer
// does not wait on thousands of starts. What is recorded is accepted: if the fan-out cannot start, the
// notifications stay `accepted` and the reconciler starts them a minute later.
import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { isUuid } from '../platform/uuid.js';
import { countAcceptedNotification } from '../platform/metrics.js';
import {
  findByIdempotencyKeys,
  insertBulkNotifications,
  insertBulkSend,
  resolveRecipients,
  type BulkCommon,
  type BulkItem,
} from '../store/bulk-sends.js';
import type { NotificationStatus } from '../store/db.js';
import { NOTIFICATIONS_QUEUE, workflowIdFor } from '../workflows/definitions.js';
import { bulkFanOutWorkflowId } from '../workflows/bulk-fan-out.js';
import { bulkFanOutWorkflow } from '../workflows/index.js';
import { ConflictError, InvalidInputError, UnavailableError } from './errors.js';
import { START_DEADLINE_MS } from './notification-workflow.js';
import { pinFlow } from './flows.js';
import { choosePriority, temporalPriorityFor } from '../workflows/priority.js';
import { canonical, requestHash, requestedFields, type AcceptContext } from './notifications.js';
import type { BulkNotification } from './schemas.js';

/** Each recipient's outcome, in the order given: its notification, or why it has none. */
export type BulkOutcome =
  | { recipient: string; id: string; status: NotificationStatus; workflowId: string }
  | { recipient: string; error: unknown };

/** A recipient on its way to a notification; `outcome` is set once it has one or failed. */
interface Pending {
  recipient: string;
  userId: string;
  item: BulkItem;
}

/** Recording one recipient at a time, after the one statement failed: a few, not all of them, at once. */
const ONE_BY_ONE_CONCURRENCY = 8;

export async function acceptBulk(
  ctx: AcceptContext,
  input: BulkNotification,
): Promise<{ outcomes: BulkOutcome[]; bulkSendId: string | null }> {
  const { recipients, ...shared } = input;
  const outcomes: BulkOutcome[] = new Array(recipients.length);
  const fail = (i: number, error: unknown) => (outcomes[i] = { recipient: recipients[i]!, error });

  if (
    input.template &&
    !(await ctx.db.template.findFirst({ where: { key: input.template }, select: { key: true } }))
  ) {
    const unknown = new InvalidInputError(
      'unknown-template',
      'Unknown template',
      `No template has the key ${input.template}`,
      [{ field: 'template', message: 'no such template' }],
    );
    recipients.forEach((_, i) => fail(i, unknown));
    return { outcomes, bulkSendId: null };
  }
  // The flow's current version, pinned for every recipient; an unknown flow fails each item as a template does.
  let flow: { version: number } | undefined;
  if (input.flow) {
    try {
      flow = await pinFlow(ctx.db, input.flow, Boolean(input.template || input.title !== undefined));
    } catch (error) {
      recipients.forEach((_, i) => fail(i, error));
      return { outcomes, bulkSendId: null };
    }
  }

  // Each recipient once: a repeat of the same string in one request is reported, not sent twice.
  const firstIndex = new Map<string, number>();
  recipients.forEach((recipient, i) => {
    if (firstIndex.has(recipient))
      fail(
        i,
        new InvalidInputError('duplicate-recipient', 'Duplicate recipient', 'listed earlier in this request'),
      );
    else firstIndex.set(recipient, i);
  });
  const unique = [...firstIndex.keys()];
  const userIds = await resolveRecipients(
    ctx.db,
    unique.map((given) => ({ given, asUuid: isUuid(given) ? given : null })),
  );

  const hashFor = requestHasher(shared);
  // The same key per recipient as a single send of it with `<key>:<recipient>` would use.
  const keyPrefix =
    ctx.idempotencyKey && (ctx.source ? `${ctx.source}/${ctx.idempotencyKey}` : ctx.idempotencyKey);
  const pending = new Map<number, Pending>();
  unique.forEach((recipient, u) => {
    const i = firstIndex.get(recipient)!;
    const userId = userIds[u];
    if (!userId) return fail(i, unknownUser(recipient));
    const id = randomUUID();
    pending.set(i, {
      recipient,
      userId,
      item: {
        id,
        userId,
        idempotencyKey: keyPrefix ? `${keyPrefix}:${recipient}` : null,
        requestHash: hashFor(recipient),
        workflowId: workflowIdFor(id),
      },
    });
  });

  const status: NotificationStatus = input.sendAt ? 'scheduled' : 'accepted';
  const common: BulkCommon = {
    ...requestedFields(shared, flow),
    status,
    requestId: ctx.requestId,
    source: ctx.source ?? null,
    // A campaign: low unless the caller says otherwise (src/workflows/priority.ts).
    priority: choosePriority(input, 'bulk'),
  };
  const recorded = await record(ctx, randomUUID(), common, [...pending.entries()], fail);

  // Not recorded, user found: the Idempotency-Key was used before, by this request repeated or another.
  const repeated = [...pending.entries()].filter(
    ([i, p]) => !recorded.inserted.has(p.item.id) && outcomes[i] === undefined,
  );
  const keys = repeated.flatMap(([, p]) => (p.item.idempotencyKey ? [p.item.idempotencyKey] : []));
  const earlier = new Map(
    (keys.length > 0 ? await findByIdempotencyKeys(ctx.db, keys) : []).map((row) => [
      row.idempotencyKey,
      row,
    ]),
  );
  for (const [i, { recipient, item }] of pending) {
    if (outcomes[i]) continue;
    if (recorded.inserted.has(item.id)) {
      outcomes[i] = { recipient, id: item.id, status, workflowId: item.workflowId };
      continue;
    }
    const first = item.idempotencyKey ? earlier.get(item.idempotencyKey) : undefined;
    if (!item.idempotencyKey)
      fail(i, unknownUser(recipient)); // deleted since it was resolved
    else if (!first) fail(i, new UnavailableError('The notification could not be recorded; retry it'));
    else if (first.requestHash !== item.requestHash)
      fail(
        i,
        new ConflictError(
          'idempotency-key-reused',
          'This Idempotency-Key was already used with a different request body',
        ),
      );
    else outcomes[i] = { recipient, id: first.id, status: first.status, workflowId: first.workflowId };
  }

  if (recorded.bulkSendId) await startFanOut(ctx, recorded.bulkSendId, recorded.inserted.size, common);
  for (let n = 0; n < recorded.inserted.size; n++) countAcceptedNotification(input.category);
  ctx.logger.info(
    {
      requestId: ctx.requestId,
      bulkSendId: recorded.bulkSendId,
      workflowId: recorded.bulkSendId && bulkFanOutWorkflowId(recorded.bulkSendId),
      category: input.category,
      recipients: recipients.length,
      created: recorded.inserted.size,
      failed: outcomes.filter((o) => 'error' in o).length,
    },
    'bulk send accepted',
  );
  return { outcomes, bulkSendId: recorded.bulkSendId };
}

/**
 * requestHash of `{...shared, userId}` for each recipient, as a single send of it would hash, without
 * serialising the shared content once a recipient: its canonical JSON is split around the userId, and
 * the part before it hashed once.
 */
function requestHasher(shared: Omit<BulkNotification, 'recipients'>): (userId: string) => string {
  const mark = `\u0000${randomUUID()}\u0000`;
  const parts = JSON.stringify(canonical({ ...shared, userId: mark })).split(JSON.stringify(mark));
  if (parts.length !== 2) return (userId) => requestHash({ ...shared, userId });
  const before = createHash('sha256').update(parts[0]!);
  return (userId) => before.copy().update(JSON.stringify(userId)).update(parts[1]!).digest('hex');
}

const unknownUser = (recipient: string) =>
  new InvalidInputError('unknown-user', 'Unknown user', `No user has the id ${recipient}`, [
    { field: 'recipients', message: 'no such user' },
  ]);

/**
 * Records every pending notification and the bulk row in one statement. Should that fail for a reason
 * no rule knows (one row the database refuses), each is recorded on its own instead, so the one that
 * fails is reported in its item and the others still go.
 */
async function record(
  ctx: AcceptContext,
  bulkSendId: string,
  common: BulkCommon,
  pending: [index: number, Pending][],
  fail: (i: number, error: unknown) => void,
): Promise<{ inserted: Set<string>; bulkSendId: string | null }> {
  const items = pending.map(([, p]) => p.item);
  try {
    return await insertBulkNotifications(ctx.db, bulkSendId, common, items);
  } catch (error) {
    ctx.logger.warn(
      { err: error, requestId: ctx.requestId },
      'bulk insert failed; recording each notification on its own',
    );
  }
  const inserted = new Set<string>();
  let next = 0;
  const recordEach = async () => {
    for (let k = next++; k < pending.length; k = next++) {
      const [i, { item }] = pending[k]!;
      try {
        const one = await insertBulkNotifications(ctx.db, null, common, [item]);
        for (const id of one.inserted) inserted.add(id);
      } catch (error) {
        ctx.logger.error(
          { err: error, requestId: ctx.requestId, recipient: pending[k]![1].recipient },
          'bulk item failed',
        );
        fail(i, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ONE_BY_ONE_CONCURRENCY, pending.length) }, recordEach));
  if (inserted.size === 0) return { inserted, bulkSendId: null };
  const notificationIds = items.map((item) => item.id).filter((id) => inserted.has(id));
  await insertBulkSend(ctx.db, {
    id: bulkSendId,
    notificationIds,
    requestId: ctx.requestId,
    source: ctx.source ?? null,
  });
  return { inserted, bulkSendId };
}

/**
 * Starts the fan-out as part of the request. A failed start is ambiguous (the server may have started it
 * after our deadline), so the answer stays 202: the notifications are recorded `accepted`, and the
 * reconciler starts each one still waiting a minute later, under the same workflow ids.
 */
async function startFanOut(
  ctx: AcceptContext,
  bulkSendId: string,
  total: number,
  common: BulkCommon,
): Promise<void> {
  const temporal: Client = ctx.temporal;
  try {
    await temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      temporal.workflow.start(bulkFanOutWorkflow, {
        taskQueue: NOTIFICATIONS_QUEUE,
        workflowId: bulkFanOutWorkflowId(bulkSendId),
        args: [{ bulkSendId, total }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // The fan-out's own tasks wait behind urgent work as its notifications do.
        priority: temporalPriorityFor({ priority: common.priority, source: common.source }),
        memo: { requestId: ctx.requestId, summary: `bulk send of ${total} notifications` },
      }),
    );
  } catch (error) {
    ctx.logger.warn(
      { err: error, requestId: ctx.requestId, bulkSendId },
      'could not start the bulk fan-out now; the reconciler will start its notifications',
    );
  }
}
