// Broadcasts: one notification to every subscriber of a topic. A broadcast has its own row (its id is a
// UUID like a notification's, so GET and cancel under /v1/notifications/:id reach either) and its own
// workflow, which records and starts one ordinary notification per recipient.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import {
  countRecipientsByStatus,
  findBroadcast,
  findBroadcastByIdempotencyKey,
  findUnstartedBroadcasts,
  type UnstartedBroadcast,
  insertBroadcast,
  type BroadcastRow,
} from '../store/broadcasts.js';
import { findTopic } from '../store/topics.js';
import { NOTIFICATIONS_QUEUE, SEARCH_ATTRIBUTES } from '../workflows/definitions.js';
import { broadcastWorkflowIdFor } from '../workflows/broadcast-definitions.js';
import { broadcastWorkflow } from '../workflows/broadcast.js';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from './errors.js';
import {
  getNotification,
  requestHash,
  requestedFields,
  type AcceptContext,
  type NotificationReach,
} from './notifications.js';
import { START_DEADLINE_MS } from './notification-workflow.js';
import { pinFlow } from './flows.js';
import { choosePriority, temporalPriorityFor } from '../workflows/priority.js';
import type { CreateNotification } from './schemas.js';
import { requireKnownTemplate } from './templates.js';
import type { AcceptedBroadcastResponse, BroadcastResponse } from './topic-views.js';
import type { NotificationResponse } from './views.js';

/**
 * Records the broadcast with its snapshot, then starts its workflow. A repeated Idempotency-Key finds the
 * first broadcast, as for a notification; a start that failed is made by the reconciler.
 */
export async function acceptBroadcast(
  ctx: AcceptContext,
  input: CreateNotification & { topic: string },
): Promise<AcceptedBroadcastResponse> {
  const { db } = ctx;
  await requireKnownTemplate(db, input.template);
  // The flow's current version, pinned once for every recipient (docs/flows.md).
  const flow = input.flow
    ? await pinFlow(db, input.flow, Boolean(input.template || input.title !== undefined))
    : undefined;
  const hash = requestHash(input);
  const idempotencyKey =
    ctx.idempotencyKey && (ctx.source ? `${ctx.source}/${ctx.idempotencyKey}` : ctx.idempotencyKey);
  // One key names one request, whichever kind: a key a notification took is not a broadcast's.
  if (
    idempotencyKey &&
    (await db.notification.findUnique({ where: { idempotencyKey }, select: { id: true } }))
  )
    throw new ConflictError(
      'idempotency-key-reused',
      'This Idempotency-Key was already used with a different request body',
    );
  const id = randomUUID();
  const workflowId = broadcastWorkflowIdFor(id);
  const inserted = await insertBroadcast(db, {
    id,
    topicKey: input.topic,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: hash,
    ...requestedFields(input, flow),
    // A campaign: low unless the caller says otherwise (src/workflows/priority.ts).
    priority: choosePriority(input, 'broadcast'),
    workflowId,
    requestId: ctx.requestId,
    source: ctx.source ?? null,
  });

  let broadcast: Pick<
    BroadcastRow,
    'id' | 'status' | 'workflowId' | 'recipients' | 'category' | 'priority' | 'source'
  >;
  let created = true;
  if (inserted) {
    broadcast = {
      id,
      status: 'accepted',
      workflowId,
      recipients: inserted.recipients,
      category: input.category,
      priority: choosePriority(input, 'broadcast'),
      source: ctx.source ?? null,
    };
  } else {
    // Either no such topic, or the Idempotency-Key is taken: say which.
    if (!(await findTopic(db, input.topic)))
      throw new InvalidInputError('unknown-topic', 'Unknown topic', `No topic has the key ${input.topic}`, [
        { field: 'topic', message: 'no such topic' },
      ]);
    const first = idempotencyKey && (await findBroadcastByIdempotencyKey(db, idempotencyKey));
    if (!first) throw new UnavailableError('The broadcast could not be recorded; retry the request');
    if (first.requestHash !== hash)
      throw new ConflictError(
        'idempotency-key-reused',
        'This Idempotency-Key was already used with a different request body',
      );
    broadcast = first;
    created = false;
  }
  // As for a notification: a repeat starts the workflow only while no run can have moved it on.
  if (broadcast.status === 'accepted') {
    try {
      await startBroadcastWorkflow(ctx.temporal, broadcast);
    } catch (error) {
      ctx.logger.warn(
        { err: error, requestId: ctx.requestId, broadcastId: broadcast.id },
        'could not start the broadcast workflow now; the reconciler will',
      );
    }
  }
  ctx.logger.info(
    { requestId: ctx.requestId, broadcastId: broadcast.id, topic: input.topic, created },
    created ? 'broadcast accepted' : 'broadcast already accepted (Idempotency-Key)',
  );
  return {
    id: broadcast.id,
    kind: 'broadcast',
    topic: input.topic,
    status: broadcast.status === 'started' ? 'started' : broadcast.status,
    recipients: broadcast.recipients,
    workflowId: broadcast.workflowId,
  };
}

/** Starts the broadcast's workflow; a run with this id that exists or ended is found, never doubled. */
async function startBroadcastWorkflow(
  temporal: Client,
  broadcast: UnstartedBroadcast,
): Promise<'started' | 'existing'> {
  try {
    await temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      temporal.workflow.start(broadcastWorkflow, {
        taskQueue: NOTIFICATIONS_QUEUE,
        workflowId: broadcast.workflowId,
        args: [{ broadcastId: broadcast.id }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // The fan-out's own tasks wait behind urgent work as its notifications do.
        priority: temporalPriorityFor(broadcast),
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.NotificationId, value: broadcast.id },
          { key: SEARCH_ATTRIBUTES.Category, value: broadcast.category },
          { key: SEARCH_ATTRIBUTES.BroadcastRecipients, value: broadcast.recipients },
          { key: SEARCH_ATTRIBUTES.BroadcastStarted, value: 0 },
        ],
        memo: { summary: `${broadcast.category} broadcast to ${broadcast.recipients} subscribers` },
      }),
    );
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'existing';
    throw error;
  }
}

/** The reconciler's share: broadcasts recorded a while ago whose workflow may never have started. */
export async function startUnstartedBroadcasts(
  deps: { db: Db; temporal: Client; logger: Logger },
  recordedBefore: Date,
): Promise<string[]> {
  const started: string[] = [];
  for (const broadcast of await findUnstartedBroadcasts(deps.db, recordedBefore, 100)) {
    if ((await startBroadcastWorkflow(deps.temporal, broadcast)) === 'started') {
      started.push(broadcast.id);
      deps.logger.warn({ broadcastId: broadcast.id }, 'reconciler started a broadcast that had not started');
    }
  }
  return started;
}

export async function broadcastView(db: Db, row: BroadcastRow): Promise<BroadcastResponse> {
  const counts = await countRecipientsByStatus(db, row.id);
  const count = (...statuses: (keyof typeof counts)[]) => statuses.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const ended = count('sent', 'partially_sent', 'failed', 'skipped', 'cancelled');
  return {
    id: row.id,
    kind: 'broadcast',
    topic: row.topicKey,
    category: row.category,
    status: row.status === 'started' && ended >= row.started ? 'completed' : row.status,
    title: row.title,
    template: row.template,
    channels: row.channels,
    fallback: row.fallback,
    sendAt: row.sendAt?.toISOString() ?? null,
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    progress: {
      recipients: row.recipients,
      started: row.started,
      sent: count('sent', 'partially_sent'),
      failed: count('failed'),
      skipped: count('skipped'),
      cancelled: count('cancelled'),
    },
  };
}

/** GET /v1/notifications/:id: a notification, or else a broadcast with its progress. */
export async function getNotificationOrBroadcast(
  db: Db,
  id: string,
  reach: NotificationReach = {},
): Promise<NotificationResponse | BroadcastResponse> {
  try {
    return await getNotification(db, id, reach);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const broadcast = await findBroadcast(db, id);
    if (!broadcast || (reach.source !== undefined && broadcast.source !== reach.source)) throw error;
    return broadcastView(db, broadcast);
  }
}
