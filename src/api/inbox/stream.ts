// GET /inbox/v1/stream: Server-Sent Events. `message` carries a new inbox item and `counts` the badge's
// numbers; each event's id is the number of the last message the stream was sent. A client reconnecting
// with that id (EventSource sends Last-Event-ID itself; a new EventSource can pass ?lastEventId=) gets
// the messages it missed, and none twice. Without one, the stream starts from now: the page loads the
// feed with GET /messages, and drops a message it already has by its id.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { SIGNED_TOKEN_PATTERN } from '../../domain/signed-tokens.js';
import { inboxCounts } from '../../store/inbox.js';
import { parse } from '../validate.js';
import { HttpProblem } from '../problem.js';
import type { InboxCaller, InboxDeps } from './routes.js';

const eventId = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,9})$/, { message: 'must be an event id from this stream' });

export const streamQuerySchema = z.strictObject({
  /** The inbox token, for EventSource, which cannot send an Authorization header. */
  token: z.string().regex(SIGNED_TOKEN_PATTERN, { message: 'must be an inbox token' }).optional(),
  /** The id of the last event received, when the page opens a new EventSource after an error. */
  lastEventId: eventId.optional(),
});

/** Streams one user may hold open on one API process (tabs, devices); more are refused. */
export const MAX_STREAMS_PER_USER = 20;
/** How long a client waits before reconnecting after the connection drops. */
const RETRY_MS = 3_000;

export async function openStream(
  deps: InboxDeps,
  req: Request,
  res: Response,
  caller: InboxCaller,
  query: z.infer<typeof streamQuerySchema>,
): Promise<void> {
  const header = req.header('last-event-id');
  const lastEventId = header === undefined ? query.lastEventId : parse(eventId, header, 'Last-Event-ID');
  if (deps.hub.streamsOf(caller.userId) >= MAX_STREAMS_PER_USER)
    throw new HttpProblem(
      429,
      'too-many-streams',
      'Too many streams',
      `This user already has ${MAX_STREAMS_PER_USER} streams open here; close one first`,
      undefined,
      { 'Retry-After': String(RETRY_MS / 1000) },
    );
  const { lastSeq } = await inboxCounts(deps.db, caller.userId);
  if (req.destroyed) return;
  // An id from the future (forged, or from before a restore) counts as now.
  const position = lastEventId === undefined ? lastSeq : Math.min(Number(lastEventId), lastSeq);

  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // nginx (and proxies that honour it) would otherwise hold the events back in a buffer.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  req.socket.setNoDelay(true);
  res.write(`retry: ${RETRY_MS}\n\n`);

  const stream = { userId: caller.userId, position, expiresAt: caller.expiresAt, res };
  res.on('close', () => deps.hub.remove(stream));
  deps.hub.add(stream);
}
