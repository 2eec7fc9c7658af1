// The bot's /prefs against the Telegram Bot API fake: a linked chat gets a page link for its own user,
// and the link opens that user's preference page; an unlinked chat is told to link first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOT_LINKED } from '../src/bot/turn.js';
import { linkedPerson, person, useBotStack } from './support/bot-stack.js';
import { PUBLIC_URL, onTestApi, preferenceCenterEnv } from './support/preference-center.js';

describe('the bot: /prefs', () => {
  const t = useBotStack({ TELEGRAM_BOT_RATE_LIMIT: '1000', ...preferenceCenterEnv() }, { queues: [] });

  it("replies with a link to the linked user's own preference page", async () => {
    const ada = await linkedPerson(t);
    const reply = await ada.says('/prefs', /settings page/);
    const url = new RegExp(`(${PUBLIC_URL}/preferences/\\S+)`).exec(reply.plainText)?.[1];
    assert.ok(url, reply.plainText);
    assert.match(reply.plainText, /do not share it\. It works until \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);

    const page = await fetch(onTestApi(t.herald, url));
    assert.equal(page.status, 200);
    const token = new URL(url).pathname.split('/').pop()!;
    const state = await fetch(`${t.herald.apiUrl}/preferences/api/state`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(state.status, 200);
    assert.equal(
      ((await state.json()) as { preferences: { userId: string } }).preferences.userId,
      ada.user.id,
    );
  });

  it('tells an unlinked chat to link first', async () => {
    const stranger = person(t);
    assert.equal((await stranger.says('/prefs')).plainText, NOT_LINKED);
  });
});
