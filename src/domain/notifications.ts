import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import type { Db, NotificationStatus as StoredStatus, Prisma } from '../store/db.js';
import { insertNotification } from '../store/notifications.js';
import type { Logger } from '../platform/logger.js';
import { countAcceptedNotification } from '../platform/metrics.js';
import { cancelUpdate, retryUpdate, workflowIdFor } from '../workflows/definitions.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from './errors.js';
import type { NotificationResponse, WorkflowStatusResponse } from './views.js';
import type { CreateNotification } from './schemas.js';
import { requireKnownTemplate } from './templates.js';
import { findUser } from './users.js';
import { pinFlow } from './flows.js';
import {
  START_DEADLINE_MS,
  notificationInputFor,
  startNotificationWorkflow,
} from './notification-workflow.js';
import { choosePriority, type CategoryPriorities, type NotificationDoor } from '../workflows/priority.js';

type NotificationRow = Prisma.NotificationGetPayload<object>;

export interface AcceptContext {
  db: Db;
  temporal: Client;
  logger: Logger;
  requestId: string;
  idempotencyKey?: string;
  /** Who asked, recorded on the notification: an API key's id, or `bot`. */
  source?: string;
  /** Where it came in: bulk and broadcasts default to low priority. */
  door?: NotificationDoor;
  /** Single notifications of these categories default to these priorities (CATEGORY_PRIORITIES). */
  categoryPriorities?: CategoryPriorities;
}

export interface Accepted {
  id: string;
  status: StoredStatus;
  workflowId: string;
  /** False when an earlier request with the same Idempotency-Key already created it. */
  created: boolean;
}

export const requestHash = (input: CreateNotification): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical(input)))
    .digest('hex');

export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/**
 * What a notification's row takes from the request as given, the same for one recipient, each of a bulk's
 * and a broadcast's: its content, channels, flow (with the version pinned) and cancellation key.
 */
export function requestedFields(input: Omit<CreateNotification, 'userId'>, flow?: { version: number }) {
  return {
    category: input.category,
    title: input.title ?? null,
    body: input.body ?? null,
    template: input.template ?? null,
    data: input.data ?? {},
    channels: input.channels ?? [],
    fallback: input.fallback ?? false,
    ack: input.ack ?? false,
    flowKey: input.flow ?? null,
    flowVersion: flow?.version ?? null,
    cancellationKey: input.cancellationKey ?? null,
    // As JavaScript reads it: PostgreSQL refuses offsets beyond ±15:59 that the schema lets through.
    sendAt: input.sendAt ? new Date(input.sendAt) : null,
  };
}

/**
 * Records the notification, then starts its workflow. The workflow id derives from the notification,
 * and a repeated Idempotency-Key finds the first notification, so a retried request never sends twice.
 */
export async function acceptNotification(ctx: AcceptContext, input: CreateNotification): Promise<Accepted> {
  const { db } = ctx;
  // A `topic` instead is a broadcast (src/domain/broadcasts.ts).
  const userId = input.userId;
  if (userId === undefined)
    throw new InvalidInputError('invalid-request', 'Invalid request', 'give userId', [
      { field: 'userId', message: 'is required' },
    ]);
  await requireKnownTemplate(db, input.template);
  const hasContent = Boolean(input.template || input.title !== undefined);
  const flow = input.flow ? await pinFlow(db, input.flow, hasContent) : undefined;
  const hash = requestHash(input);
  // Keys are the caller's own: another API key reusing the same string neither collides nor sees this one.
  const idempotencyKey =
    ctx.idempotencyKey && (ctx.source ? `${ctx.source}/${ctx.idempotencyKey}` : ctx.idempotencyKey);
  const id = randomUUID();
  const workflowId = workflowIdFor(id);
  const status: StoredStatus = input.sendAt ? 'scheduled' : 'accepted';
  const channels = input.channels ?? [];
  // As JavaScript reads it: PostgreSQL refuses offsets beyond ±15:59 that the schema lets through.
  const sendAt = input.sendAt ? new Date(input.sendAt) : null;
  const priority = choosePriority(input, ctx.door ?? 'single', ctx.categoryPriorities);

  const inserted = await insertNotification(db, {
    id,
    userIdOrExternalId: userId,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: hash,
    category: input.category,
    title: input.title ?? null,
    body: input.body ?? null,
    template: input.template ?? null,
    data: input.data ?? {},
    channels,
    fallback: input.fallback ?? false,
    ack: input.ack ?? false,
    sendAt,
    status,
    workflowId,
    requestId: ctx.requestId,
    source: ctx.source ?? null,
    priority,
    flowKey: input.flow ?? null,
    flowVersion: flow?.version ?? null,
    cancellationKey: input.cancellationKey ?? null,
  });

  let notification: Pick<
    NotificationRow,
    | 'id'
    | 'userId'
    | 'category'
    | 'channels'
    | 'sendAt'
    | 'fallback'
    | 'ack'
    | 'status'
    | 'workflowId'
    | 'priority'
    | 'source'
  > &
    Partial<Pick<NotificationRow, 'flowKey' | 'flowVersion' | 'flowStartStep'>>;
  let created = true;
  if (inserted) {
    notification = {
      id,
      userId: inserted.userId,
      category: input.category,
      channels,
      sendAt,
      fallback: input.fallback ?? false,
      ack: input.ack ?? false,
      status,
      workflowId,
      priority,
      source: ctx.source ?? null,
      flowKey: input.flow ?? null,
      flowVersion: flow?.version ?? null,
    };
  } else {
    // Either no such user, or the Idempotency-Key is taken: say which.
    await findUser(db, userId).catch((error: unknown) => {
      if (error instanceof NotFoundError)
        throw new InvalidInputError('unknown-user', 'Unknown user', `No user has the id ${input.userId}`, [
          { field: 'userId', message: 'no such user' },
        ]);
      throw error;
    });
    const first = idempotencyKey && (await db.notification.findUnique({ where: { idempotencyKey } }));
    // The insert found the user, so the key was taken; a row is never deleted, so this is a race lost
    // to a purge. Say so rather than guess.
    if (!first) throw new UnavailableError('The notification could not be recorded; retry the request');
    if (first.requestHash !== hash) {
      throw new ConflictError(
        'idempotency-key-reused',
        'This Idempotency-Key was already used with a different request body',
      );
    }
    notification = first;
    created = false;
  }

  // A repeat starts the workflow only while no run can have moved the notification on: the first request
  // may have stopped between recording it and starting its workflow. Past that (processing, sent,
  // cancelled, …) its run exists or ended, and once Temporal's retention has deleted an ended run, a
  // start would begin a new one: a cancelled or finished notification must never come back.
  const mayBeUnstarted = created || notification.status === 'accepted' || notification.status === 'scheduled';
  if (mayBeUnstarted) {
    try {
      await startNotificationWorkflow(
        ctx.temporal,
        notificationInputFor(notification),
        notification.workflowId,
        ctx.requestId,
        notification,
      );
    } catch (error) {
      // Recorded is accepted. A failed start is ambiguous (a deadline or a reset connection may come after
      // the server started the run), so the row stays, and the answer stays 202: a caller told "failed"
      // would send again. The reconciler starts whatever is still unstarted a minute later.
      ctx.logger.warn(
        { err: error, requestId: ctx.requestId, notificationId: notification.id },
        'could not start the notification workflow now; the reconciler will',
      );
    }
  }
  if (created) countAcceptedNotification(notification.category);
  // The line that joins a request to its workflow: search the logs by requestId, then Temporal by workflowId.
  ctx.logger.info(
    {
      requestId: ctx.requestId,
      notificationId: notification.id,
      workflowId: notification.workflowId,
      category: notification.category,
      priority: notification.priority,
      created,
    },
    created ? 'notification accepted' : 'notification already accepted (Idempotency-Key)',
  );
  return { id: notification.id, status: notification.status, workflowId: notification.workflowId, created };
}

/**
 * Whose notifications a caller reaches: all (no `source`), or only those it created. Another caller's
 * are then absent (`hidden`, a send key: 404) or visible but not its to act on (`forbidden`: 403).
 */
export interface NotificationReach {
  source?: string;
  others?: 'hidden' | 'forbidden';
}

/** Not found when the notification is absent or hidden from the caller; forbidden when only visible. */
function checkReach<Row extends { source: string | null }>(
  id: string,
  row: Row | null,
  reach: NotificationReach,
): asserts row is Row {
  if (!row) throw new NotFoundError(`Notification ${id}`);
  if (reach.source === undefined || row.source === reach.source) return;
  if (reach.others === 'forbidden')
    throw new ForbiddenError(`Notification ${id} was created by another API key; this key may not act on it`);
  throw new NotFoundError(`Notification ${id}`);
}

export async function getNotification(
  db: Db,
  id: string,
  reach: NotificationReach = {},
): Promise<NotificationResponse> {
  const notification = await db.notification.findFirst({
    where: { id, ...(reach.source === undefined ? {} : { source: reach.source }) },
    // One order whatever the order the channels ran in: email, sms, push, telegram.
    include: { deliveries: { orderBy: { channel: 'asc' } } },
  });
  if (!notification) throw new NotFoundError(`Notification ${id}`);
  return {
    id: notification.id,
    userId: notification.userId,
    category: notification.category,
    status: notification.status,
    title: notification.title,
    template: notification.template,
    channels: notification.channels,
    fallback: notification.fallback,
    ack: notification.ack,
    sendAt: notification.sendAt?.toISOString() ?? null,
    priority: notification.priority,
    workflowId: notification.workflowId,
    flow:
      notification.flowKey && notification.flowVersion
        ? { key: notification.flowKey, version: notification.flowVersion }
        : null,
    flowSteps: notification.flowTrace as NotificationResponse['flowSteps'],
    cancellationKey: notification.cancellationKey,
    digest: notification.digestWorkflowId
      ? { workflowId: notification.digestWorkflowId, notificationId: notification.digestId }
      : null,
    createdAt: notification.createdAt.toISOString(),
    completedAt: notification.completedAt?.toISOString() ?? null,
    deliveries: notification.deliveries.map((d) => ({
      channel: d.channel,
      status: d.status,
      attempts: d.attempts,
      lastError: d.lastError,
      providerMessageId: d.providerMessageId,
      sentAt: d.sentAt?.toISOString() ?? null,
      readAt: d.readAt?.toISOString() ?? null,
      clickedAt: d.clickedAt?.toISOString() ?? null,
      acknowledgedAt: d.acknowledgedAt?.toISOString() ?? null,
    })),
  };
}

/**
 * Acts on the running workflow through an update, so the caller learns at once whether it took:
 * a notification already finished, or with nothing to retry, gets 409 with the workflow's reason.
 */
export async function actOnNotification(
  db: Db,
  temporal: Client,
  id: string,
  action: { kind: 'cancel'; reason?: string } | { kind: 'retry' },
  reach: NotificationReach = {},
): Promise<WorkflowStatusResponse> {
  const notification = await db.notification.findUnique({
    where: { id },
    select: { workflowId: true, source: true, status: true },
  });
  checkReach(id, notification, reach);
  const handle = temporal.workflow.getHandle(notification.workflowId);
  try {
    // An update waits for a worker to run the workflow: with none, the caller hears so in seconds.
    return await temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      action.kind === 'cancel'
        ? handle.executeUpdate(cancelUpdate, { args: [{ reason: action.reason }] })
        : handle.executeUpdate(retryUpdate),
    );
  } catch (error) {
    if (isDeadlineExceeded(error))
      throw new UnavailableError(
        `The notification's workflow did not answer in time; retry the ${action.kind}`,
      );
    if (error instanceof WorkflowUpdateFailedError)
      throw new ConflictError(`cannot-${action.kind}`, error.cause?.message ?? error.message);
    // Recorded, but its start failed and the reconciler has not started it yet.
    if (error instanceof WorkflowNotFoundError && ['accepted', 'scheduled'].includes(notification.status))
      throw new UnavailableError(`The notification's workflow has not started yet; retry the ${action.kind}`);
    if (error instanceof WorkflowNotFoundError || isClosedWorkflowError(error))
      throw new ConflictError(`cannot-${action.kind}`, 'the notification is already completed');
    throw error;
  }
}

// Our deadline as the SDK reports it (RPC timed out or cancelled), or the server's own (gRPC 4).
const isDeadlineExceeded = (error: unknown): boolean =>
  error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
  (error as { code?: number })?.code === 4 ||
  /deadline exceeded/i.test((error as Error)?.message ?? '');

// An update sent to a closed workflow fails with gRPC NOT_FOUND ("workflow execution already completed").
const isClosedWorkflowError = (error: unknown): boolean =>
  /already completed|not found/i.test((error as Error)?.message ?? '');
