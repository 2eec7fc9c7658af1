// A client of the inbox's event stream (GET /inbox/v1/stream) for the tests and the benchmark: fetch and
// eventsource-parser rather than a browser's EventSource, so a caller chooses where the token goes, what
// Last-Event-ID it sends, and sees every event with the moment it arrived.
import { createParser } from 'eventsource-parser';

export interface InboxEvent {
  event: string;
  id?: string;
  data: unknown;
  /** performance.now() when the event was parsed. */
  at: number;
}

export interface InboxStreamOptions {
  token: string;
  /** `header` (Authorization, the default) or `query` (?token=, as the web component's EventSource). */
  tokenIn?: 'header' | 'query';
  lastEventId?: string;
  onEvent?(event: InboxEvent): void;
}

export interface InboxStreamClient {
  /** The answer's status; the stream is open only on 200. */
  status: number;
  /** The body of a refusal (problem+json), when status is not 200. */
  refusal?: string;
  events: InboxEvent[];
  /** The first event that matches, among those received from index `since` (0: all) and those to come. */
  next(
    match: (event: InboxEvent) => boolean,
    options?: { timeoutMs?: number; since?: number },
  ): Promise<InboxEvent>;
  /** Resolves when the server ends the stream (or close() is called). */
  ended: Promise<void>;
  close(): void;
}

export async function openInboxStream(
  apiUrl: string,
  options: InboxStreamOptions,
): Promise<InboxStreamClient> {
  const url = new URL('/inbox/v1/stream', apiUrl);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.tokenIn === 'query') url.searchParams.set('token', options.token);
  else headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: InboxEvent[] = [];
  const waiters = new Set<() => void>();
  const client: InboxStreamClient = {
    status: res.status,
    events,
    ended: Promise.resolve(),
    next(match, { timeoutMs = 10_000, since = 0 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(since).find(match);
          if (!found) return false;
          waiters.delete(check as () => void);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check as () => void);
          reject(
            new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.slice(since))}`),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check as () => void);
      });
    },
    close: () => abort.abort(),
  };
  if (res.status !== 200 || !res.body) {
    client.refusal = await res.text();
    return client;
  }
  const parser = createParser({
    onEvent(message) {
      const event: InboxEvent = {
        event: message.event ?? 'message',
        id: message.id,
        data: JSON.parse(message.data) as unknown,
        at: performance.now(),
      };
      events.push(event);
      options.onEvent?.(event);
      for (const waiter of [...waiters]) waiter();
    },
  });
  const decoder = new TextDecoder();
  client.ended = (async () => {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // Aborted by close(), or the connection dropped: either way the stream is over.
    }
  })();
  return client;
}
