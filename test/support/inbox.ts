// Helpers for the in-app inbox's tests: its configuration, users and their tokens, notifications through
// the API, and the feed called as a browser calls it (an inbox token, never the API key).
import assert from 'node:assert/strict';
import { eventually, uniqueId, type RunningStack } from './stack.js';

export const INBOX_SECRET = 'test-inbox-secret-0123456789abcdefghij';
export const PAGE_ORIGIN = 'https://app.example.test';
export const inboxEnv = (extra: Record<string, string> = {}) => ({
  INBOX_SECRET,
  INBOX_CORS_ORIGINS: PAGE_ORIGIN,
  ...extra,
});

export interface InboxItem {
  id: string;
  title: string;
  body: string;
  url: string | null;
  actions: { id: string; label: string; url?: string }[];
  category: string;
  data: Record<string, unknown>;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
  /** The message asks to be acknowledged, and when it was. */
  ackRequested: boolean;
  acknowledgedAt: string | null;
}

export function inboxClient(stack: () => RunningStack) {
  const herald = () => stack();
  const client = {
    async createUser(fields: Record<string, unknown> = {}) {
      const res = await herald().api('/v1/users', { json: { externalId: uniqueId('inbox'), ...fields } });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { id: string; externalId: string };
    },
    async token(userId: string) {
      const res = await herald().api(`/v1/users/${userId}/inbox-token`, { method: 'POST' });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { userId: string; token: string; expiresAt: string };
    },
    /** A user and a token for their inbox. */
    async reader(fields: Record<string, unknown> = {}) {
      const user = await client.createUser(fields);
      return { user, token: (await client.token(user.id)).token };
    },
    async notify(userId: string, fields: Record<string, unknown> = {}) {
      const res = await herald().api('/v1/notifications', {
        json: {
          userId,
          category: 'updates',
          channels: ['in_app'],
          title: 'Hello',
          body: 'A message.',
          ...fields,
        },
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { id: string }).id;
    },
    /** A request to /inbox/v1 as the user's page makes it. */
    inbox(token: string | undefined, path: string, init: RequestInit & { json?: unknown } = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${herald().apiUrl}/inbox/v1${path}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
      });
    },
    async feed(token: string, query = '') {
      const res = await client.inbox(token, `/messages${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { items: InboxItem[]; nextCursor: string | null };
    },
    async counts(token: string) {
      const res = await client.inbox(token, '/counts');
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { unread: number; unseen: number };
    },
    /** Waits until the feed holds the notification's message (the worker stored it). */
    async stored(token: string, title: string) {
      return eventually(async () => (await client.feed(token)).items.find((i) => i.title === title), {
        what: `the inbox message "${title}"`,
      });
    },
  };
  return client;
}
