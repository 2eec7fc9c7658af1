// The bot's /prefs against the Telegram Bot API fake: a linked chat gets a page link for its own user,
// and the link opens that user's preference page; an unlinked chat is told to link first. And /settings
// steps a category's digest through off, hourly and daily, as the preference page sets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOT_LINKED } from '../src/bot/turn.js';
import { linkedPerson, person, useBotStack } from './support/bot-stack.js';
import { PUBLIC_URL, onTestApi, preferenceCenterEnv } from './support/preference-center.js';

describe('the bot: /prefs, and digests in /settings', () => {
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

  it('/settings steps a category’s digest: hourly, daily at 08:00 and 18:00, off', async () => {
    const ada = await linkedPerson(t);
    const { db } = t.herald;
    // A category with a rule is listed; its rule must survive the digest taps.
    const rules = [{ category: 'billing', channel: 'sms', enabled: false }];
    const put = await t.herald.api(`/v1/users/${ada.user.id}/preferences`, {
      method: 'PUT',
      json: { rules, quietHours: null },
    });
    assert.equal(put.status, 200);
    await t.herald.api(`/v1/users/${ada.user.id}`, { method: 'PATCH', json: { timezone: 'Europe/Berlin' } });

    const settings = await ada.says('/settings', /Digests/);
    assert.match(settings.plainText, /^Digests \(📬\): billing off \(daily ones in Europe\/Berlin\)$/m);
    const button = (markup: unknown) =>
      (markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard
        .flat()
        .find((b) => b.callback_data === 'set:dig:billing')?.text;
    assert.equal(button(settings.params.reply_markup), '📬 billing: off');
    const stored = async () =>
      (await db.digestPreference.findMany({ where: { userId: ada.user.id } })).map((d) => [
        d.category,
        d.mode,
        d.hour,
      ]);

    const steps: [string, unknown[][]][] = [
      ['hourly', [['billing', 'hourly', null]]],
      ['daily at 08:00', [['billing', 'daily', 8]]],
      ['daily at 18:00', [['billing', 'daily', 18]]],
      ['off', []],
    ];
    for (const [said, rows] of steps) {
      const answer = await ada.taps(settings.messageId, 'set:dig:billing');
      assert.equal(answer.text, `billing: ${said}`);
      const edit = await t.fake.waitForEdit(
        (e) =>
          e.messageId === settings.messageId && e.text?.includes(`Digests (📬): billing ${said} `) === true,
      );
      assert.equal(button(edit.replyMarkup), `📬 billing: ${said}`);
      assert.deepEqual(await stored(), rows);
    }
    assert.deepEqual(
      (await db.preference.findMany({ where: { userId: ada.user.id } })).map((r) => [
        r.category,
        r.channel,
        r.enabled,
      ]),
      [['billing', 'sms', false]],
    );

    // A daily hour chosen on the page shows as it is; the next tap turns it off.
    await t.herald.api(`/v1/users/${ada.user.id}/preferences`, {
      method: 'PUT',
      json: { rules, quietHours: null, digests: [{ category: 'billing', mode: 'daily', hour: 7 }] },
    });
    const again = await ada.says('/settings', /Digests/);
    assert.equal(button(again.params.reply_markup), '📬 billing: daily at 07:00');
    assert.equal((await ada.taps(again.messageId, 'set:dig:billing')).text, 'billing: off');
    assert.deepEqual(await stored(), []);

    // A mandatory category has no digest to step.
    const tap = await ada.taps(again.messageId, 'set:dig:security');
    assert.equal(tap.text, 'security notifications are always delivered.');
  });
});
