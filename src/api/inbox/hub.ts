// The open inbox streams of one API process, by user. A change to a user's inbox, made by any process,
// reaches this one as a NOTIFY (src/store/inbox-listener.ts); the hub then reads what the user's streams
// have not had yet, once for all of them, and writes it to each: new messages in order, then the counts.
// Each stream knows the number of the last message it was sent, so none is sent twice, and a client
// that reconnects with that number (Last-Event-ID) gets exactly what it missed.
import type { Response } from 'express';
import { inboxItemView } from '../../domain/inbox.js';
import type { Logger } from '../../platform/logger.js';
import type { Db } from '../../store/db.js';
import { inboxCounts, inboxMessagesAfter, type InboxChange } from '../../store/inbox.js';
import { listenForInboxChanges, type InboxListener } from '../../store/inbox-listener.js';

export interface InboxStream {
  userId: string;
  /** The number of the last message this stream was sent (or knew of when it opened). */
  position: number;
  expiresAt: Date;
  res: Response;
}

export interface InboxHub {
  /** Starts sending to the stream: what it missed since its position, the counts, then every change. */
  add(stream: InboxStream): void;
  remove(stream: InboxStream): void;
  /** Streams the user has open in this process. */
  streamsOf(userId: string): number;
  /** Streams open in this process. */
  readonly size: number;
  /** Ends every stream (clients reconnect, to this process or another) and stops listening. */
  close(): Promise<void>;
}

/** Comments on an idle stream keep proxies and load balancers from timing it out. */
const HEARTBEAT_MS = 25_000;
/** Messages read per query while catching a stream up. */
const CATCH_UP_PAGE = 100;
/** A client this far behind in reading is dropped; it reconnects with Last-Event-ID and misses nothing. */
const MAX_BUFFERED_BYTES = 1 << 20;

function write(stream: InboxStream, event: string, id: number, data: unknown): void {
  stream.res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  if (stream.res.writableLength > MAX_BUFFERED_BYTES) stream.res.end();
}

export function createInboxHub(options: { db: Db; databaseUrl: string; logger: Logger }): InboxHub & {
  ready: Promise<void>;
} {
  const { db, logger } = options;
  const byUser = new Map<string, Set<InboxStream>>();
  /** Per user: a refresh running, and whether another must follow it (a change came meanwhile). */
  const refreshing = new Map<string, { again: boolean }>();

  const refresh = (userId: string) => {
    const running = refreshing.get(userId);
    if (running) return void (running.again = true);
    const state = { again: false };
    refreshing.set(userId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          await sendNews(userId);
        } while (state.again);
      } catch (error) {
        logger.warn({ err: error, userId }, 'could not update inbox streams');
      } finally {
        refreshing.delete(userId);
      }
    })();
  };

  async function sendNews(userId: string): Promise<void> {
    let after = Math.min(...[...(byUser.get(userId) ?? [])].map((s) => s.position));
    while (Number.isFinite(after)) {
      const messages = await inboxMessagesAfter(db, userId, after, CATCH_UP_PAGE);
      for (const message of messages) {
        const view = inboxItemView(message);
        for (const stream of byUser.get(userId) ?? []) {
          if (message.seq <= stream.position) continue;
          write(stream, 'message', message.seq, view);
          stream.position = message.seq;
        }
      }
      if (messages.length < CATCH_UP_PAGE) break;
      after = messages.at(-1)!.seq;
    }
    const streams = byUser.get(userId);
    if (!streams) return;
    const { unread, unseen } = await inboxCounts(db, userId);
    for (const stream of streams) write(stream, 'counts', stream.position, { unread, unseen });
  }

  const endAll = (userId: string) => {
    for (const stream of byUser.get(userId) ?? []) stream.res.end();
  };

  const listener: InboxListener = listenForInboxChanges({
    databaseUrl: options.databaseUrl,
    logger,
    onChange(change: InboxChange) {
      if (!byUser.has(change.u)) return;
      // Revoking voids every token the user held, so every stream they opened.
      if (change.k === 'revoked') endAll(change.u);
      else refresh(change.u);
    },
    // Changes made while the connection was down were not heard: every stream catches up.
    onListening: () => byUser.forEach((_, userId) => refresh(userId)),
  });

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const streams of byUser.values())
      for (const stream of streams) {
        // An expired token's stream ends; the page asks its backend for a new token.
        if (stream.expiresAt.getTime() <= now) stream.res.end();
        else stream.res.write(': ping\n\n');
      }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const hub = {
    ready: listener.ready,
    get size() {
      let n = 0;
      for (const streams of byUser.values()) n += streams.size;
      return n;
    },
    streamsOf: (userId: string) => byUser.get(userId)?.size ?? 0,
    add(stream: InboxStream) {
      const streams = byUser.get(stream.userId) ?? new Set();
      byUser.set(stream.userId, streams.add(stream));
      refresh(stream.userId);
    },
    remove(stream: InboxStream) {
      const streams = byUser.get(stream.userId);
      if (!streams?.delete(stream)) return;
      if (streams.size === 0) byUser.delete(stream.userId);
    },
    async close() {
      clearInterval(heartbeat);
      for (const userId of [...byUser.keys()]) endAll(userId);
      await listener.close();
    },
  };
  return hub;
}
