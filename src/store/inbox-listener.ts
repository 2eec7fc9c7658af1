// An API process hears of inbox changes from any process (a worker storing a message, another API
// replica marking one read) through PostgreSQL's LISTEN/NOTIFY: no broker besides the database. One
// dedicated connection per process; when it drops, it reconnects with backoff and says so, since
// notifications sent while it was away are lost and whoever listens must catch up from the tables.
import pg from 'pg';
import type { Logger } from '../platform/logger.js';
import { INBOX_NOTIFY_CHANNEL, type InboxChange } from './inbox.js';

export interface InboxListenerOptions {
  databaseUrl: string;
  logger: Logger;
  onChange(change: InboxChange): void;
  /** The connection is (again) listening: changes made while it was not were missed. */
  onListening(): void;
}

export interface InboxListener {
  /** Resolves once the first LISTEN took. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** How often the connection proves it is alive; a silent TCP drop is otherwise noticed only by the OS. */
const HEALTH_CHECK_MS = 30_000;
const HEALTH_TIMEOUT_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;

const isChange = (value: unknown): value is InboxChange => {
  const change = value as Partial<InboxChange> | null;
  return (
    typeof change?.u === 'string' &&
    (change.k === 'message' || change.k === 'counts' || change.k === 'revoked')
  );
};

export function listenForInboxChanges(options: InboxListenerOptions): InboxListener {
  const { logger } = options;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let health: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const connect = async () => {
    const current = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true });
    client = current;
    current.on('notification', ({ channel, payload }) => {
      if (channel !== INBOX_NOTIFY_CHANNEL || !payload) return;
      try {
        const change: unknown = JSON.parse(payload);
        if (isChange(change)) options.onChange(change);
      } catch {
        logger.warn('ignored a malformed inbox notification');
      }
    });
    // 'error' and 'end' both mean the connection is gone; reconnect once for either.
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || closed) return;
      lost = true;
      clearInterval(health);
      logger.warn({ err: error }, 'lost the inbox LISTEN connection; reconnecting');
      current.end().catch(() => undefined);
      scheduleReconnect();
    };
    current.on('error', onLost);
    current.on('end', () => onLost());
    try {
      await current.connect();
      await current.query(`LISTEN ${INBOX_NOTIFY_CHANNEL}`);
    } catch (error) {
      onLost(error as Error);
      return;
    }
    if (closed) return void current.end().catch(() => undefined);
    failures = 0;
    health = setInterval(() => {
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no answer to SELECT 1')), HEALTH_TIMEOUT_MS).unref(),
      );
      Promise.race([current.query('SELECT 1'), timeout]).catch((error: Error) => onLost(error));
    }, HEALTH_CHECK_MS).unref();
    markReady();
    options.onListening();
  };

  const scheduleReconnect = () => {
    if (closed) return;
    failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 7));
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
  };

  void connect();
  return {
    ready,
    async close() {
      closed = true;
      clearInterval(health);
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
