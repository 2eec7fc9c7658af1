import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createPreferenceLinks } from '../../src/domain/preference-links.js';
import { unversionedToken } from '../support/preference-center.js';

const HOUR = 3600_000;
const SECRET = 'unit-test-secret-0123456789abcdef0123';
const links = createPreferenceLinks({
  secret: SECRET,
  publicUrl: 'https://herald.example.test',
  linkTtlMs: 24 * HOUR,
});
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Another last character of a 43-character base64url string that decodes to the same bytes. */
const sameBytes = (last: string) => BASE64URL[BASE64URL.indexOf(last) ^ 1]!;

describe('preference links', () => {
  it('signs a page link that works until it expires, to the second', () => {
    const user = { id: randomUUID(), linkVersion: 3 };
    const now = new Date('2026-11-21T10:00:00.500Z');
    const link = links.pageLink(user, now);
    assert.equal(link.url, `https://herald.example.test/preferences/${link.token}`);
    assert.equal(link.expiresAt.toISOString(), '2026-11-22T10:00:00.000Z');
    assert.deepEqual(links.verifyPage(link.token, new Date('2026-11-22T09:59:59Z')), {
      valid: true,
      userId: user.id,
      linkVersion: 3,
      expiresAt: link.expiresAt,
    });
    assert.deepEqual(links.verifyPage(link.token, link.expiresAt), { valid: false, reason: 'expired' });
  });

  it('refuses an altered, forged or malformed token, and one made for the other purpose', () => {
    const user = { id: randomUUID(), linkVersion: 0 };
    const page = links.pageLink(user).token;
    const unsubscribe = tokenOf(links.unsubscribeUrl(user, 'billing'));
    const [claims, signature] = page.split('.') as [string, string];
    const other = createPreferenceLinks({
      secret: 'another-secret-0123456789abcdef01234',
      publicUrl: 'https://herald.example.test',
      linkTtlMs: 24 * HOUR,
    });
    // Claims that say another user, under the genuine signature.
    const someoneElse = Buffer.from(
      Buffer.from(claims, 'base64url').toString().replace(user.id, randomUUID()),
    ).toString('base64url');
    for (const token of [
      `${someoneElse}.${signature}`,
      // The last character's low bits carry no data: another spelling of the same signature is refused too.
      `${claims}.${signature.slice(0, -1)}${sameBytes(signature.at(-1)!)}`,
      `${claims}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
      other.pageLink(user).token,
      unsubscribe,
      '',
      'a.b',
      `${claims}.${signature}.extra`,
    ])
      assert.deepEqual(links.verifyPage(token), { valid: false, reason: 'invalid' }, token);
    assert.deepEqual(links.verifyUnsubscribe(page), { valid: false, reason: 'invalid' });
  });

  it('signs an unsubscribe link for a user, a category and the notification it came in', () => {
    const user = { id: randomUUID(), linkVersion: 1 };
    const notification = randomUUID();
    const url = links.unsubscribeUrl(user, 'billing', notification);
    assert.match(url, /^https:\/\/herald\.example\.test\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(links.verifyUnsubscribe(tokenOf(url)), {
      valid: true,
      userId: user.id,
      linkVersion: 1,
      category: 'billing',
      notificationId: notification,
    });
  });

  it('reads a link signed before link versions (no version claim) as version 0', () => {
    const user = randomUUID();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const page = links.verifyPage(unversionedToken(SECRET, { k: 'page', u: user, exp }));
    assert.deepEqual(page, { valid: true, userId: user, linkVersion: 0, expiresAt: new Date(exp * 1000) });
    const unsubscribe = links.verifyUnsubscribe(
      unversionedToken(SECRET, { k: 'unsubscribe', u: user, c: 'news' }),
    );
    assert.deepEqual(unsubscribe, {
      valid: true,
      userId: user,
      linkVersion: 0,
      category: 'news',
      notificationId: undefined,
    });
  });
});
