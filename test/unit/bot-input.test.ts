import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText, parseCommand } from '../../src/bot/input.js';
import { createChatRateLimit } from '../../src/bot/rate-limit.js';

describe('bot input', () => {
  it('drops control characters, bidi overrides and unpaired surrogates, keeps pairs and newlines', () => {
    assert.equal(cleanText('  a\u0000b\u0007c\u200b\r\nd\u202e\ufeff  '), 'abc\nd');
    assert.equal(cleanText('\udfff\ud800x'), 'x');
    assert.equal(cleanText('😀 e\u0301'), '😀 é');
    assert.equal(cleanText('x'.repeat(20_000)).length, 8192);
  });

  it('parses commands with arguments and @botname, and knows a non-command', () => {
    assert.deepEqual(parseCommand('/Send@herald_bot  me | a | b '), { name: 'send', args: 'me | a | b' });
    assert.deepEqual(parseCommand('/quiet\n22:00-07:00'), { name: 'quiet', args: '22:00-07:00' });
    assert.deepEqual(parseCommand('/'), { name: '', args: '' });
    assert.deepEqual(parseCommand('/émoji'), { name: '', args: '' });
    assert.equal(parseCommand('hello /start'), undefined);
  });
});

describe('per-chat rate limit', () => {
  it('allows a burst, warns once, refills over the minute, and keeps chats apart', () => {
    let now = 0;
    const limit = createChatRateLimit(3, () => now);
    const take = (chat = 'a') => limit.take(chat);
    assert.deepEqual(
      [take(), take(), take()].map((r) => r.allowed),
      [true, true, true],
    );
    assert.deepEqual(take(), { allowed: false, warn: true, retryAfterS: 20 });
    assert.equal(take().warn, false);
    assert.equal(take('b').allowed, true);
    now += 20_000;
    assert.equal(take().allowed, true);
    assert.equal(take().allowed, false);
  });
});
