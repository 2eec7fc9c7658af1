// How the API shows a user's contacts: every channel's address under `contacts`, the older top-level
// fields beside them, and a secret address (a webhook URL, a token) never in full.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CONTACT_CHANNELS, type ChannelName } from '../../src/activities/channels/registry.js';
import type { ContactDefinition } from '../../src/activities/channels/channel.js';
import { userView, type UserRecord } from '../../src/domain/users.js';

const user = (contacts: UserRecord['contacts']): UserRecord => ({
  id: '6b0f4c8e-2d7a-4c57-9a63-0d5a3a0a1b2c',
  externalId: 'ada',
  locale: 'en',
  timezone: 'UTC',
  channelOrder: ['email'],
  botSender: false,
  linkVersion: 0,
  contacts,
  pushDevices: [],
  createdAt: new Date('2026-12-01T00:00:00Z'),
  updatedAt: new Date('2026-12-02T00:00:00Z'),
});

describe('the user view', () => {
  it('shows every contact under contacts and keeps email, phone and telegramChatId', () => {
    const view = userView(user({ email: 'ada@example.com', telegram: '4242' })) as Record<string, unknown>;
    assert.deepEqual(view.contacts, { email: 'ada@example.com', telegram: '4242' });
    assert.equal(view.email, 'ada@example.com');
    assert.equal(view.phone, null);
    assert.equal(view.telegramChatId, '4242');
  });

  it('never returns a secret address in full', () => {
    const secret = 'https://hooks.example.com/services/T000/B000/very-secret-token';
    const webhook: ContactDefinition = {
      schema: z.url(),
      mask: (url) => `${new URL(url).origin}/•••`,
      hint: () => 'set',
      missing: 'none',
    };
    // A channel with a secret address, beside the registry's own (its name stands in for a new one).
    const channels = [...CONTACT_CHANNELS, { channel: 'push' as ChannelName, contact: webhook }];
    const view = userView(user({ email: 'ada@example.com', push: secret }), channels);
    assert.equal((view.contacts as Record<string, string>).push, 'https://hooks.example.com/•••');
    assert.ok(!JSON.stringify(view).includes('very-secret-token'));
  });
});
