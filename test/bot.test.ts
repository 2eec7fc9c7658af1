// The Telegram bot end to end: a simulated person talks to the bot through a Telegram Bot API fake
// (long polling), the real Temporal workflow and telegram worker deliver, PostgreSQL records each step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueLinkToken } from '../src/domain/telegram-link.js';
import { eventually, uniqueId } from './support/stack.js';
import {
  codeSentTo,
  contactOf,
  linkedPerson,
  person,
  snapshot,
  useBotStack,
  userWithLink,
} from './support/bot-stack.js';

/** A quiet window that starts two hours from now in Moscow, so it does not hold now. */
function quietWindowLater(): string {
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', hour: '2-digit', hourCycle: 'h23' }).format(
      new Date(),
    ),
  );
  const at = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return `${at(hour + 2)}-${at(hour + 3)}`;
}

describe('telegram bot (long polling)', () => {
  const t = useBotStack({ TELEGRAM_BOT_RATE_LIMIT: '1000' }, { codeSinks: true });

  it('links, sets contacts, settings and quiet hours, sends, and delivers through Telegram', async () => {
    const { db } = t.herald;
    // The API hands out a deep link; only a hash of its token is stored.
    const { user, link } = await userWithLink(t);
    assert.match(link.url, /^https:\/\/t\.me\/herald_test_bot\?start=[A-Za-z0-9_-]{32}$/);
    assert.ok(link.url.endsWith(link.token));
    const stored = await db.telegramLinkToken.findFirstOrThrow({ where: { userId: user.id } });
    assert.notEqual(stored.tokenHash, link.token);
    assert.ok(new Date(link.expiresAt).getTime() > Date.now());

    // /start <token> links the chat to the user, once.
    const ada = person(t);
    const linked = await ada.says(`/start ${link.token}`);
    assert.match(linked.plainText, /^Linked: .*receives the notifications of “tg-/);
    assert.equal((await contactOf(db, user.id, 'telegram'))?.address, ada.chatId);
    assert.ok((await db.telegramLinkToken.findUniqueOrThrow({ where: { id: stored.id } })).usedAt);
    assert.ok(await db.telegramChat.findUnique({ where: { chatId: ada.chatId } }));
    const eve = person(t);
    assert.match((await eve.says(`/start ${link.token}`)).plainText, /already used/);
    assert.equal(await db.contact.count({ where: { channel: 'telegram', address: eve.chatId } }), 0);

    // /email, validated, and stored once the code sent to the new address comes back with /verify.
    const email = await ada.says('/email ada@example.com');
    assert.match(email.plainText, /I sent a code to “ada@example\.com”\. Send \/verify <code>/);
    assert.match(email.plainText, /Until then you have none/);
    assert.equal(await contactOf(db, user.id, 'email'), null);
    const code = await codeSentTo(t, 'ada@example.com');
    const pending = await db.contactVerification.findFirstOrThrow({ where: { userId: user.id } });
    assert.notEqual(pending.codeHash, code);
    assert.match(
      (await ada.says(`/verify ${code}`)).plainText,
      /^Verified: your email is now “ada@example\.com”/,
    );
    assert.equal((await contactOf(db, user.id, 'email'))?.address, 'ada@example.com');
    assert.equal(await db.contactVerification.count({ where: { userId: user.id } }), 0);

    // /settings: a tap turns email off and the message is redrawn in place.
    const settings = await ada.says('/settings');
    assert.match(
      settings.plainText,
      // Every channel of the registry, the chat channels too.
      /Channels: email on, sms on \(no address\), push on \(no address\), telegram on, slack on \(no address\), discord on \(no address\), teams on \(no address\), in_app on$/m,
    );
    const buttons = (settings.params.reply_markup as { inline_keyboard: { callback_data: string }[][] })
      .inline_keyboard;
    for (const channel of ['email', 'slack', 'discord', 'teams'])
      assert.ok(
        buttons.flat().some((b) => b.callback_data === `set:ch:${channel}`),
        channel,
      );
    const answer = await ada.taps(settings.messageId, 'set:ch:email');
    assert.equal(answer.text, 'email off');
    const edit = await t.fake.waitForEdit((e) => e.messageId === settings.messageId);
    assert.equal(edit.method, 'editMessageText');
    assert.match(edit.text!, /Channels: email off, /);
    assert.equal(
      edit.replyMarkup!.inline_keyboard!.flat().find((b) => b.callback_data === 'set:ch:email')!.text,
      '🚫 email',
    );
    assert.deepEqual(
      await db.preference.findMany({
        where: { userId: user.id },
        select: { category: true, channel: true, enabled: true },
      }),
      [{ category: '*', channel: 'email', enabled: false }],
    );
    // Done takes the keyboard away.
    assert.equal((await ada.taps(settings.messageId, 'set:done')).text, 'Saved');
    await t.fake.waitForEdit(
      (e) => e.messageId === settings.messageId && e.method === 'editMessageReplyMarkup',
    );
    assert.deepEqual(t.fake.botMessage(settings.messageId)!.replyMarkup, { inline_keyboard: [] });

    // /quiet with a time zone, then the window is in the database.
    const window = quietWindowLater();
    const quiet = await ada.says(`/quiet ${window} Europe/Moscow`);
    assert.match(quiet.plainText, new RegExp(`^Quiet hours set: ${window} Europe/Moscow`));
    const [start, end] = window.split('-');
    assert.deepEqual(
      await db.quietHours.findUnique({
        where: { userId: user.id },
        select: { start: true, end: true, timezone: true },
      }),
      { start, end, timezone: 'Europe/Moscow' },
    );
    // The rules survived the quiet hours change.
    assert.equal(await db.preference.count({ where: { userId: user.id } }), 1);

    // /send in one line: a workflow starts, the notification reaches the chat through the telegram worker.
    const sent = await ada.says('/send me | Lunch <b>today</b> | Meet at 12:30 & bring   snacks', /^Sent/);
    const id = /Notification ([0-9a-f-]{36})/.exec(sent.plainText)![1]!;
    const delivered = await t.fake.waitFor((m) => m.chatId === ada.chatId && m.parseMode === 'HTML');
    assert.equal(delivered.plainText, 'Lunch <b>today</b>\nMeet at 12:30 & bring   snacks');
    const notification = await eventually(
      async () => {
        const n = await db.notification.findUnique({ where: { id }, include: { deliveries: true } });
        return n?.status === 'sent' && n;
      },
      { what: 'the bot notification to be sent' },
    );
    assert.equal(notification.userId, user.id);
    assert.equal(notification.category, 'message');
    assert.equal(notification.source, 'bot');
    assert.deepEqual(notification.data, { sentBy: user.id });
    assert.match(notification.idempotencyKey!, new RegExp(`telegram-${ada.chatId}-\\d+$`));
    assert.deepEqual(
      notification.deliveries.map((d) => [d.channel, d.status]),
      [['telegram', 'sent']],
    );

    // /status shows its deliveries.
    const status = await ada.says(`/status ${id}`);
    assert.match(
      status.plainText,
      new RegExp(`^Notification ${id}\\nmessage: “Lunch <b>today</b>”\\nStatus: sent`),
    );
    assert.match(status.plainText, /• telegram: sent, 1 attempt/);
    assert.match((await ada.says('/status')).plainText, new RegExp(`• ${id} message: sent`));
  });

  it('issues links for known users only, and a new link voids the last', async () => {
    const missing = await t.herald.api('/v1/users/nobody-here/telegram-link', { method: 'POST' });
    assert.equal(missing.status, 404);
    const { user, link: first } = await userWithLink(t);
    const second = (await (
      await t.herald.api(`/v1/users/${user.externalId}/telegram-link`, { method: 'POST' })
    ).json()) as { token: string };
    const ada = person(t);
    assert.match((await ada.says(`/start ${first.token}`)).plainText, /do not know that link code/);
    assert.match((await ada.says(`/start ${second.token}`)).plainText, /^Linked/);
  });

  it('composes step by step, keeping the draft in the database', async () => {
    const { db } = t.herald;
    const ada = await linkedPerson(t);
    const draft = async () =>
      (await db.telegramChat.findUniqueOrThrow({ where: { chatId: ada.chatId } })).conversation;

    assert.match((await ada.says('/send')).plainText, /^Who is it for\?/);
    assert.deepEqual(await draft(), { step: 'recipient' });
    assert.match((await ada.says('nobody-by-that-name')).plainText, /^You can send only to yourself/);
    assert.match((await ada.says(ada.user.externalId)).plainText, /^For “tg-.*”\. What is the subject\?/);
    assert.deepEqual(await draft(), { step: 'subject', recipient: ada.user.id });
    assert.match((await ada.says('  Weekly\n  report  ')).plainText, /^And the text\?/);
    assert.deepEqual(await draft(), { step: 'text', recipient: ada.user.id, subject: 'Weekly report' });
    const sent = await ada.says('All green.\nSee you Monday.', /^Sent/);
    assert.equal(await draft(), null);
    const id = /Notification ([0-9a-f-]{36})/.exec(sent.plainText)![1]!;
    const n = await db.notification.findUniqueOrThrow({ where: { id } });
    assert.deepEqual(
      [n.userId, n.title, n.body, n.source],
      [ada.user.id, 'Weekly report', 'All green.\nSee you Monday.', 'bot'],
    );
    await t.fake.waitFor(
      (m) => m.chatId === ada.chatId && m.plainText === 'Weekly report\nAll green.\nSee you Monday.',
    );

    // /cancel drops a draft; another command abandons one.
    await ada.says('/send');
    assert.match((await ada.says('/cancel')).plainText, /^Cancelled: nothing was sent/);
    assert.equal(await draft(), null);
    assert.match((await ada.says('/cancel')).plainText, /^There is nothing to cancel/);
    await ada.says('/send');
    await ada.says('/quiet');
    assert.equal(await draft(), null);
  });

  it('refuses everything but /start and /help before the chat is linked, and changes nothing', async () => {
    const stranger = person(t);
    const before = await snapshot(t, stranger.chatId);
    for (const text of [
      '/email ada@example.com',
      '/phone +14155550123',
      '/settings',
      '/quiet off',
      '/send me | a | b',
      '/status',
      '/verify 123456',
    ])
      assert.match((await stranger.says(text)).plainText, /not linked to a Herald account yet/, text);
    const tap = await stranger.taps(999_999, 'set:ch:email');
    assert.ok(tap.showAlert);
    assert.match(tap.text!, /no longer works|not linked/);
    assert.match((await stranger.says('/help')).plainText, /Link this chat first/);
    assert.deepEqual(await snapshot(t, stranger.chatId), before);

    // Bad codes: each says why, and nothing is linked.
    assert.match((await stranger.says('/start nope')).plainText, /does not look like a link code/);
    assert.match((await stranger.says(`/start ${'x'.repeat(32)}`)).plainText, /do not know that link code/);
    const { user } = await userWithLink(t);
    const expired = await issueLinkToken(t.herald.db, user.id, -1000);
    assert.match((await stranger.says(`/start ${expired.token}`)).plainText, /has expired/);
    assert.equal(
      await t.herald.db.contact.count({ where: { channel: 'telegram', address: stranger.chatId } }),
      0,
    );
  });

  it('answers bad input with help and changes nothing', async () => {
    const ada = await linkedPerson(t);
    const before = await snapshot(t, ada.chatId, ada.user.id);
    const bad: [string | undefined, RegExp][] = [
      ['/email not-an-email', /“not-an-email” is not a valid email/],
      ['/email ada@', /is not a valid email/],
      ['/phone 12345', /is not a valid phone number \(must be an E\.164 number/],
      ['/quiet 22:00-07:00 Mars/Olympus_Mons', /“Mars\/Olympus_Mons” is not a time zone I know/],
      ['/quiet 25:00-07:00', /Those hours are not valid: must be a time HH:MM/],
      ['/quiet 22:00-22:00', /start and end must differ/],
      ['/quiet sometime', /I could not read “sometime”/],
      [`/send me | ${'s'.repeat(201)} | text`, /subject is 201 characters long; keep it to 200/],
      [`/send me | subject | ${'t'.repeat(3801)}`, /text is 3801 characters long; keep it to 3800/],
      [`/send me | subject | ${'t'.repeat(9000)}`, /text is \d+ characters long; keep it to 3800/],
      ['/send me | only two', /I need a recipient, a subject and a text/],
      ['/send ../../etc | a | b', /You can send only to yourself/],
      ['/verify', /Send the six-digit code/],
      ['/verify 123456', /No code is waiting to be verified/],
      ['/status not-an-id', /is not a notification id/],
      ['/status 00000000-0000-4000-8000-000000000000', /I found no notification/],
      ['/frobnicate now', /I do not know the command “\/frobnicate”/],
      ['/constructor', /I do not know the command/],
      ['/', /I do not know the command/],
      ['hello there', /Send \/help to see what I can do/],
      [undefined, /I understand text only/],
      ['\u0000\u0007\u200b\ufeff', /could not read anything/],
      ['\udfff\ud800\u202e/email x', /“x” is not a valid email/],
      [String.fromCharCode(...Array.from({ length: 300 }, (_, i) => (i * 7919) % 65_536)), /./],
    ];
    for (const [text, expected] of bad) {
      const reply = (await ada.says(text)).plainText;
      assert.match(reply, expected, JSON.stringify(text)?.slice(0, 60));
      // The last-resort answer would mean a handler threw.
      assert.doesNotMatch(reply, /Something went wrong/, JSON.stringify(text)?.slice(0, 60));
    }
    // A tap with forged data, and updates of a shape no client sends: answered or ignored, never a crash.
    const settings = await ada.says('/settings');
    for (const data of ['set:ch:pigeon', 'set:cat:security', 'drop table', 'set:ch:' + 'e'.repeat(60)]) {
      const tap = await ada.taps(settings.messageId, data);
      assert.ok(tap.showAlert, data);
    }
    t.fake.addUpdate({ message: 'not a message' });
    t.fake.addUpdate({ message: { message_id: 'x', chat: { id: 'y' } } });
    t.fake.addUpdate({ callback_query: { id: 5 } });
    t.fake.addUpdate({
      edited_message: {
        message_id: 1,
        chat: { id: Number(ada.chatId), type: 'private' },
        text: '/email a@b.co',
      },
    });
    assert.match((await ada.says('/help')).plainText, /^What I can do:/);
    assert.deepEqual(await snapshot(t, ada.chatId, ada.user.id), before);
  });

  it('is not a relay: /send reaches others only for senders an operator allowed', async () => {
    const { db } = t.herald;
    const ada = await linkedPerson(t);
    // Bob has a Telegram contact but turned `message` off there: his delivery is skipped with a reason.
    const bobChat = String(8_000_000_000 + (Date.now() % 1_000_000));
    const created = await t.herald.api('/v1/users', {
      json: { externalId: uniqueId('bob'), contacts: { telegram: bobChat } },
    });
    const bob = (await created.json()) as { id: string; externalId: string; botSender: boolean };
    assert.equal(bob.botSender, false);
    const prefs = await t.herald.api(`/v1/users/${bob.id}/preferences`, {
      method: 'PUT',
      json: { rules: [{ category: 'message', channel: 'telegram', enabled: false }], quietHours: null },
    });
    assert.equal(prefs.status, 200, await prefs.clone().text());

    // A known user and an unknown one get the same refusal, and nothing is recorded.
    const before = await db.notification.count();
    const toBob = await ada.says(`/send ${bob.externalId} | Hello | Are you there?`);
    const toBobById = await ada.says(`/send ${bob.id} | Hello | Are you there?`);
    const toNobody = await ada.says('/send nobody-by-that-name | Hello | Are you there?');
    const toNoId = await ada.says('/send 00000000-0000-4000-8000-000000000000 | Hello | Are you there?');
    assert.match(toBob.plainText, /^You can send only to yourself \("me"\)/);
    for (const reply of [toBobById, toNobody, toNoId]) assert.equal(reply.plainText, toBob.plainText);
    await ada.says('/send');
    assert.equal((await ada.says(bob.externalId)).plainText, toBob.plainText);
    assert.equal(await db.notification.count(), before);

    // An operator marks Ada as a sender; the user view shows it.
    const patched = await t.herald.api(`/v1/users/${ada.user.id}`, {
      method: 'PATCH',
      json: { botSender: true },
    });
    assert.equal(patched.status, 200, await patched.clone().text());
    assert.equal(((await patched.json()) as { botSender: boolean }).botSender, true);
    assert.match((await ada.says('/send nobody-by-that-name | a | b')).plainText, /^I know no user/);
    const sent = await ada.says(`/send ${bob.externalId} | Hello | Are you there?`, /^Sent/);
    const id = /Notification ([0-9a-f-]{36})/.exec(sent.plainText)![1]!;
    const n = await eventually(
      async () => {
        const found = await db.notification.findUnique({ where: { id }, include: { deliveries: true } });
        return found?.deliveries.some((d) => d.lastError) && found;
      },
      { what: 'the skipped delivery to Bob' },
    );
    assert.equal(n.userId, bob.id);
    assert.match(n.deliveries[0]!.lastError!, /opted out/);
    // /status tells the sender how it went, without the recipient's error text.
    const status = (await ada.says(`/status ${id}`)).plainText;
    assert.match(status, /• telegram: skipped/);
    assert.doesNotMatch(status, /opted out|\(/);

    // Unmarked again: refused again.
    await t.herald.api(`/v1/users/${ada.user.id}`, { method: 'PATCH', json: { botSender: false } });
    assert.equal((await ada.says(`/send ${bob.externalId} | a | b`)).plainText, toBob.plainText);
  });

  it('changes a phone only after /verify, and a code burns after 5 wrong tries or 15 minutes', async () => {
    const { db } = t.herald;
    const ada = await linkedPerson(t);
    const phone = `+1415555${String(Date.now() % 10_000).padStart(4, '0')}`;
    const sent = await ada.says(`/phone ${phone.slice(0, 5)} ${phone.slice(5)}`);
    assert.match(sent.plainText, /^I sent a code to “\+1415/);
    const first = await codeSentTo(t, phone);
    assert.equal(await contactOf(db, ada.user.id, 'sms'), null);
    const wrong = String((Number(first) + 1) % 1_000_000).padStart(6, '0');
    for (let left = 4; left >= 1; left--)
      assert.match(
        (await ada.says(`/verify ${wrong}`)).plainText,
        new RegExp(`not right\\. ${left} tr(y is|ies are) left`),
      );
    assert.match((await ada.says(`/verify ${wrong}`)).plainText, /no longer works/);
    assert.match((await ada.says(`/verify ${first}`)).plainText, /No code is waiting/);
    assert.equal(await contactOf(db, ada.user.id, 'sms'), null);

    // A new code; once it has expired it does nothing.
    await ada.says(`/phone ${phone}`, /^I sent a code/);
    const second = await codeSentTo(t, phone);
    await db.contactVerification.updateMany({
      where: { userId: ada.user.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    assert.match((await ada.says(`/verify ${second}`)).plainText, /has expired/);
    assert.equal(await contactOf(db, ada.user.id, 'sms'), null);

    // The right code in time stores it; a later change keeps the old number until verified.
    await ada.says(`/phone ${phone}`, /^I sent a code/);
    const third = await codeSentTo(t, phone);
    assert.match((await ada.says(`/verify ${third}`)).plainText, /^Verified: your phone number is now/);
    assert.equal((await contactOf(db, ada.user.id, 'sms'))?.address, phone);
    const other = '+14155550199';
    assert.match((await ada.says(`/phone ${other}`)).plainText, new RegExp(`stays “\\${phone}”`));
    assert.equal((await contactOf(db, ada.user.id, 'sms'))?.address, phone);
    assert.match((await ada.says('/phone')).plainText, new RegExp(`Your phone number: “\\${phone}”`));
  });

  it('sends its codes through one provider per channel: two emails, one SMTP connection', async () => {
    const ada = await linkedPerson(t);
    const [first, second] = [uniqueId('code-a'), uniqueId('code-b')].map((id) => `${id}@example.com`);
    for (const address of [first!, second!]) {
      await ada.says(`/email ${address}`, /^I sent a code/);
      await codeSentTo(t, address);
    }
    const sessions = t.smtp!.sessions.filter((s) => s.rcptTo.includes(first!));
    assert.equal(sessions.length, 1);
    assert.ok(sessions[0]!.rcptTo.includes(second!), "the second code went over the first's connection");
    assert.equal(sessions[0]!.closedAt, undefined, 'kept open while the bot runs');
  });

  it('sends at most 5 codes a day to one number, whoever asks, and 10 for one person', async () => {
    const ada = await linkedPerson(t);
    const eve = await linkedPerson(t);
    const phone = `+1415666${String(Date.now() % 10_000).padStart(4, '0')}`;
    const toPhone = () => t.sms!.messages.filter((m) => m.to === phone).length;
    for (let i = 1; i <= 5; i++) {
      await (i % 2 ? ada : eve).says(`/phone ${phone}`, /^I sent a code/);
      await t.sms!.waitFor(() => toPhone() === i);
    }
    const pending = await t.herald.db.contactVerification.findMany({ where: { address: phone } });
    // The sixth, from either of them, is refused: no message, and what was pending stays as it was.
    for (const person of [ada, eve])
      assert.match(
        (await person.says(`/phone ${phone}`)).plainText,
        /^Too many codes were sent today to “\+1415666\d{4}” or for your account\. .*Nothing changed\./,
      );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(toPhone(), 5);
    assert.deepEqual(await t.herald.db.contactVerification.findMany({ where: { address: phone } }), pending);

    // One person, many numbers: the tenth code of the day is the last.
    const sprayer = await linkedPerson(t);
    const numbers = Array.from({ length: 11 }, (_, i) => `+1415777${String(i).padStart(4, '0')}`);
    for (const number of numbers.slice(0, 10)) await sprayer.says(`/phone ${number}`, /^I sent a code/);
    assert.match((await sprayer.says(`/phone ${numbers[10]}`)).plainText, /^Too many codes/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.sms!.messages.filter((m) => m.to === numbers[10]).length, 0);
  });
});
