import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createAcknowledgementLinks, isAcknowledgeButton } from '../../src/domain/acknowledgement-links.js';
import { createPreferenceLinks } from '../../src/domain/preference-links.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const PUBLIC_URL = 'https://herald.example.test';
const links = createAcknowledgementLinks({ secret: SECRET, publicUrl: PUBLIC_URL });
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const DAY = 24 * 3600_000;

describe('acknowledge links', () => {
  it('names the delivery, the user and the link version, and works for 30 days to the second', () => {
    const user = { id: randomUUID(), linkVersion: 2 };
    const deliveryId = randomUUID();
    const now = new Date('2026-12-06T10:00:00.500Z');
    const url = links.url(deliveryId, user, now);
    assert.match(url, /^https:\/\/herald\.example\.test\/ack\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const expiresAt = new Date('2027-01-05T10:00:00.000Z');
    assert.deepEqual(links.verifyLink(tokenOf(url), new Date(expiresAt.getTime() - 1000)), {
      valid: true,
      deliveryId,
      userId: user.id,
      linkVersion: 2,
      expiresAt,
    });
    assert.deepEqual(links.verifyLink(tokenOf(url), expiresAt), { valid: false, reason: 'expired' });
    assert.ok(new Date(now.getTime() + 30 * DAY) >= expiresAt);
  });

  it('refuses a token of another kind signed with the same secret, and one under another secret', () => {
    const user = { id: randomUUID(), linkVersion: 0 };
    const preferences = createPreferenceLinks({ secret: SECRET, publicUrl: PUBLIC_URL, linkTtlMs: DAY });
    for (const token of [
      preferences.pageLink(user).token,
      tokenOf(preferences.unsubscribeUrl(user, 'alerts')),
      tokenOf(
        createAcknowledgementLinks({ secret: `${SECRET}x`, publicUrl: PUBLIC_URL }).url(randomUUID(), user),
      ),
    ])
      assert.deepEqual(links.verifyLink(token), { valid: false, reason: 'invalid' });
    // And the other way: an acknowledge token opens no preference page.
    assert.equal(preferences.verifyPage(tokenOf(links.url(randomUUID(), user))).valid, false);
  });

  it('makes button data within 64 bytes that reads back only as it was signed', () => {
    for (let i = 0; i < 50; i++) {
      const deliveryId = randomUUID();
      const data = links.buttonData(deliveryId);
      assert.ok(Buffer.byteLength(data) <= 64, data);
      assert.equal(isAcknowledgeButton(data), true);
      assert.equal(links.readButton(data), deliveryId);
    }
    const data = links.buttonData(randomUUID());
    const [id, mac] = data.slice(4).split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const altered of [
      `ack:${flip(id, 3)}.${mac}`,
      `ack:${id}.${flip(mac, 0)}`,
      `ack:${id}.${mac}x`,
      `set:ch:email`,
      createAcknowledgementLinks({ secret: `${SECRET}x`, publicUrl: PUBLIC_URL }).buttonData(randomUUID()),
    ])
      assert.equal(links.readButton(altered), undefined, altered);
    assert.equal(isAcknowledgeButton('set:done'), false);
  });
});
