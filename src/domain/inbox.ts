// The in-app inbox as its reader uses it: the feed a page at a time, the badge's counts, and marking
// messages seen, read, unread or archived, and acknowledging those that ask. A read, a click or an
// acknowledgement goes back to the notification's workflow as a signal (engagementSignal) and is recorded
// on the in_app delivery; nothing here knows HTTP.
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { inboxActionSchema } from '../activities/channels/in-app/content.js';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/db.js';
import {
  findInboxMessages,
  inboxCounts,
  listInboxMessages,
  type FeedFilter,
  type InboxItem,
} from '../store/inbox.js';
import { markAllInboxMessagesRead, markInboxMessage, type InboxMark } from '../store/inbox-marks.js';
import { acknowledge } from './acknowledgements.js';
import { tellWorkflow } from './engagement.js';
import { ConflictError, NotFoundError } from './errors.js';
import { responseSchemas } from './views.js';

export const FEED_FILTERS = ['unread', 'all', 'archived'] as const satisfies readonly FeedFilter[];

export const inboxFeedQuerySchema = z.strictObject({
  /** `all` (not archived, the default), `unread` (not archived either) or `archived`. */
  status: z.enum(FEED_FILTERS).default('all'),
  /** `nextCursor` from the previous page. */
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, { message: 'must be a nextCursor from the previous page' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type InboxFeedQuery = z.infer<typeof inboxFeedQuerySchema>;

/** POST /inbox/v1/messages/:id/read: `clicked` when the reader opened its link, `action` a button's id. */
export const inboxReadSchema = z.strictObject({
  clicked: z.boolean().optional(),
  action: inboxActionSchema.shape.id.optional(),
});
export type InboxRead = z.infer<typeof inboxReadSchema>;

export const inboxMessageIdSchema = z.uuid({ message: 'must be a message id (UUID)' });

const timestamp = z.iso.datetime();
export const inboxItemResponse = z
  .object({
    id: z.uuid(),
    title: z.string(),
    body: z.string(),
    url: z.string().nullable(),
    actions: z.array(z.object({ id: z.string(), label: z.string(), url: z.string().optional() })),
    category: z.string(),
    /** The notification's data, as the caller sent it. */
    data: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
    seenAt: timestamp.nullable(),
    readAt: timestamp.nullable(),
    archivedAt: timestamp.nullable(),
    /** The message asks to be acknowledged (POST /inbox/v1/messages/{id}/acknowledge). */
    ackRequested: z.boolean(),
    acknowledgedAt: timestamp.nullable(),
  })
  .register(responseSchemas, { id: 'InboxMessage' });
export type InboxItemResponse = z.infer<typeof inboxItemResponse>;

export const inboxPageResponse = z
  .object({
    items: z.array(inboxItemResponse),
    /** Pass as `cursor` for the next page; null on the last one. */
    nextCursor: z.string().nullable(),
  })
  .register(responseSchemas, { id: 'InboxPage' });

export const inboxCountsResponse = z
  .object({ unread: z.int().min(0), unseen: z.int().min(0) })
  .register(responseSchemas, { id: 'InboxCounts' });

export const inboxReadAllResponse = z
  .object({ read: z.int().min(0) })
  .register(responseSchemas, { id: 'InboxReadAll' });

export const inboxTokenResponse = z
  .object({ userId: z.uuid(), token: z.string(), expiresAt: timestamp })
  .register(responseSchemas, { id: 'InboxToken' });

export function inboxItemView({ seq: _, ...item }: InboxItem): InboxItemResponse {
  return {
    ...item,
    createdAt: item.createdAt.toISOString(),
    seenAt: item.seenAt?.toISOString() ?? null,
    readAt: item.readAt?.toISOString() ?? null,
    archivedAt: item.archivedAt?.toISOString() ?? null,
    acknowledgedAt: item.acknowledgedAt?.toISOString() ?? null,
  };
}

export async function inboxPage(db: Db, userId: string, query: InboxFeedQuery) {
  const rows = await listInboxMessages(db, userId, {
    filter: query.status,
    before: query.cursor === undefined ? undefined : Number(query.cursor),
    // One more than asked: whether there is a next page, without counting.
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return {
    items: page.map(inboxItemView),
    nextCursor: rows.length > query.limit ? String(page.at(-1)!.seq) : null,
  };
}

export async function inboxBadge(db: Db, userId: string): Promise<z.infer<typeof inboxCountsResponse>> {
  const { unread, unseen } = await inboxCounts(db, userId);
  return { unread, unseen };
}

export interface InboxDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
}

/** read-all tells this many workflows at once. */
const SIGNAL_CONCURRENCY = 8;

/** Marks one of the user's messages; another user's message is not found, and nothing changes. */
export async function markMessage(
  deps: InboxDeps,
  userId: string,
  messageId: string,
  mark: InboxMark,
  read: InboxRead = {},
): Promise<InboxItemResponse> {
  const clicked = mark === 'read' && (read.clicked === true || read.action !== undefined);
  const marked = await markInboxMessage(deps.db, userId, messageId, mark, clicked);
  if (!marked) throw new NotFoundError(`Message ${messageId}`);
  const at = new Date().toISOString();
  if (marked.becameRead) await tellWorkflow(deps, marked.workflowId, { kind: 'read', channel: 'in_app', at });
  if (clicked)
    await tellWorkflow(deps, marked.workflowId, {
      kind: 'clicked',
      channel: 'in_app',
      at,
      ...(read.action ? { action: read.action } : {}),
    });
  return inboxItemView(marked.item);
}

/** Marks every unread message read; their workflows hear of it in the background. */
export async function markAllRead(deps: InboxDeps, userId: string): Promise<{ read: number }> {
  const marked = await markAllInboxMessagesRead(deps.db, userId);
  const at = new Date().toISOString();
  const queue = [...marked];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      await tellWorkflow(deps, next.workflowId, { kind: 'read', channel: 'in_app', at });
  };
  void Promise.all(Array.from({ length: SIGNAL_CONCURRENCY }, worker));
  return { read: marked.length };
}

/**
 * The reader acknowledges one of their messages that asks for it: recorded on its in_app delivery and
 * signalled (acknowledgements.ts), and the message is read. Another user's message is not found; one
 * that does not ask is a conflict; neither changes anything.
 */
export async function acknowledgeMessage(
  deps: InboxDeps,
  userId: string,
  messageId: string,
): Promise<InboxItemResponse> {
  const recorded = await acknowledge(deps, { via: 'inbox', userId, messageId });
  if (!recorded) {
    const [own] = await findInboxMessages(deps.db, userId, [messageId]);
    if (!own) throw new NotFoundError(`Message ${messageId}`);
    throw new ConflictError('not-acknowledgeable', 'This message does not ask to be acknowledged');
  }
  return markMessage(deps, userId, messageId, 'read');
}
