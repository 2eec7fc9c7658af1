// Helpers for the preference center's tests: its configuration, users and notifications through the
// API, the header lines of a received email, and links turned toward the test's own API.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { ReceivedMail } from '../../tools/fakes/smtp-sink.js';
import { eventually, uniqueId, type RunningStack } from './stack.js';

export const PREFERENCES_SECRET = 'test-preferences-secret-0123456789abcdef';
/** What links in emails start with; tests send their requests to the API they started instead. */
export const PUBLIC_URL = 'https://herald.example.test';
export const preferenceCenterEnv = (extra: Record<string, string> = {}) => ({
  PREFERENCES_SECRET,
  PUBLIC_URL,
  MANDATORY_CATEGORIES: 'security',
  ...extra,
});

export interface NotificationView {
  id: string;
  userId: string;
  status: string;
  deliveries: { channel: string; status: string; attempts: number; lastError: string | null }[];
}

/** The path and query of a link from Herald, against the test's API (the link names PUBLIC_URL). */
export function onTestApi(herald: RunningStack, link: string): string {
  const url = new URL(link);
  assert.equal(url.origin, PUBLIC_URL, `links lead to PUBLIC_URL: ${link}`);
  return herald.apiUrl + url.pathname + url.search;
}

export function preferenceClient(stack: () => RunningStack) {
  const herald = () => stack();
  return {
    async createUser(fields: Record<string, unknown> = {}) {
      const email = `${uniqueId('prefs')}@example.test`;
      const res = await herald().api('/v1/users', { json: { externalId: uniqueId(), email, ...fields } });
      assert.equal(res.status, 201, await res.clone().text());
      return { ...((await res.json()) as { id: string; timezone: string }), email };
    },
    async notify(userId: string, category: string, fields: Record<string, unknown> = {}) {
      const res = await herald().api('/v1/notifications', {
        json: { userId, category, title: `A ${category} notice`, body: 'Something happened.', ...fields },
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { id: string }).id;
    },
    async view(id: string) {
      return (await (await herald().api(`/v1/notifications/${id}`)).json()) as NotificationView;
    },
    settled(id: string, statuses: string[] = ['sent', 'skipped', 'failed', 'partially_sent']) {
      return eventually(
        async () => {
          const view = (await (await herald().api(`/v1/notifications/${id}`)).json()) as NotificationView;
          return statuses.includes(view.status) && view;
        },
        { what: `notification ${id} to settle`, timeoutMs: 30_000 },
      );
    },
    /** A page link for the user, from POST /v1/users/:id/preferences-link. */
    async pageLink(userId: string) {
      const res = await herald().api(`/v1/users/${userId}/preferences-link`, { method: 'POST' });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { userId: string; url: string; expiresAt: string };
    },
  };
}

/** A header of the message as sent (unfolded), not as mailparser interprets it. */
export function rawHeader(mail: ReceivedMail, name: string): string | undefined {
  const head = mail.raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The URL inside `List-Unsubscribe: <url>`. */
export function unsubscribeUrl(mail: ReceivedMail): string {
  const value = rawHeader(mail, 'List-Unsubscribe');
  const url = /^<(https?:\/\/[^>]+)>$/.exec(value ?? '')?.[1];
  assert.ok(url, `List-Unsubscribe is one URL in angle brackets: ${value}`);
  return url;
}

/** POSTs as Gmail's one-click does: a plain form body, no cookies, no login. */
export const oneClick = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'GoogleOneClick/1.0' },
    body: 'List-Unsubscribe=One-Click',
    redirect: 'manual',
  });

/** A link token as Herald signed them before link versions: claims without `v`, under the same MAC. */
export function unversionedToken(secret: string, claims: { k: string; u: string } & Record<string, unknown>) {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const mac = createHmac('sha256', secret).update(`herald-preference-link.v1.${payload}`).digest();
  return `${payload}.${mac.toString('base64url')}`;
}
