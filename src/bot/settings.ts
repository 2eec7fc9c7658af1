// /settings: an inline keyboard that turns channels and categories on and off, and steps a category's
// digest through off, hourly and daily. A tap edits the same message in place. Changes go through the
// API's preferences: the rules (*, channel) and (category, *), and the digests.
import { TelegramApiError, type CallbackQuery, type InlineKeyboardMarkup } from 'node-telegram-bot-api';
import { preferencesSchema } from '../domain/schemas.js';
import { preferencesOf, putPreferences, type UserRecord } from '../domain/users.js';
import type { PreferencesResponse } from '../domain/views.js';
import { CHANNEL_DEFINITIONS, CHANNELS, type ChannelName } from '../activities/channels/registry.js';
import { isAllowed, type PreferenceRule } from '../domain/preferences.js';
import {
  describeDigest,
  withDigestChoice,
  type DigestChoice,
  type DigestSetting,
} from '../domain/digest-preference.js';
import { NOT_LINKED, type Turn } from './turn.js';
import { recentCategories } from '../store/notifications.js';

/**
 * Callback data: `set:ch:<channel>`, `set:cat:<category>`, `set:dig:<category>`, `set:done` (Telegram
 * allows 64 bytes).
 */
const CALLBACK = /^set:(?:(ch|cat|dig):([a-z0-9][a-z0-9_.-]{0,55})|(done))$/;
const MAX_CATEGORIES = 8;

/** On unless a rule for it, or the catch-all (*, *), says off: the workflow's own rule. */
const isOn = isAllowed;

/**
 * The rules with one switch flipped. Turning a switch back to what (*, *) gives removes its rule,
 * so a category switched back on does not override a channel switched off.
 */
function flip(rules: PreferenceRule[], category: string, channel: string): PreferenceRule[] {
  const on = !isOn(rules, category, channel);
  const rest = rules.filter((r) => !(r.category === category && r.channel === channel));
  return on === isOn(rest, category, channel) ? rest : [...rest, { category, channel, enabled: on }];
}

/** Categories worth a switch: those with a rule or a digest, then those the user was recently notified in. */
async function knownCategories(turn: Turn, user: UserRecord, prefs: PreferencesResponse) {
  const recent = await recentCategories(turn.deps.db, user.id, 20);
  const mandatory = turn.deps.config.delivery.mandatoryCategories;
  return [
    ...new Set([...prefs.rules.map((r) => r.category), ...prefs.digests.map((d) => d.category), ...recent]),
  ]
    .filter((c) => c !== '*' && !mandatory.includes(c) && CALLBACK.test(`set:dig:${c}`))
    .slice(0, MAX_CATEGORIES);
}

/** A category's digest: its own choice, else the one for every category, else off. */
const digestOf = (digests: readonly DigestChoice[], category: string): DigestSetting =>
  digests.find((d) => d.category === category) ?? digests.find((d) => d.category === '*') ?? { mode: 'off' };

/** What a tap on a digest button steps through; the preference page offers every hour. */
const DIGEST_STEPS: DigestSetting[] = [
  { mode: 'off' },
  { mode: 'hourly' },
  { mode: 'daily', hour: 8 },
  { mode: 'daily', hour: 18 },
];
function nextDigest(current: DigestSetting): DigestSetting {
  const at = DIGEST_STEPS.findIndex((s) => describeDigest(s) === describeDigest(current));
  // A daily hour set on the page is not a step: the next tap goes back to off.
  return DIGEST_STEPS[(at === -1 ? DIGEST_STEPS.length - 1 : at) + 1] ?? DIGEST_STEPS[0]!;
}

async function render(
  turn: Turn,
  user: UserRecord,
  /** The preferences, when the caller has just read or written them. */
  known?: PreferencesResponse,
): Promise<{ text: string; markup: InlineKeyboardMarkup }> {
  const { db } = turn.deps;
  const [prefs, pushSubscriptions] = await Promise.all([
    known ?? preferencesOf(db, user),
    db.pushSubscription.count({ where: { userId: user.id, active: true } }),
  ]);
  // Push reaches browsers and phones alike: either is an address.
  const pushTargets = pushSubscriptions + user.pushDevices.length;
  const categories = await knownCategories(turn, user, prefs);
  const mark = (on: boolean) => (on ? '✅' : '🚫');
  const address = (channel: ChannelName): boolean => {
    const { contact, implicitAddress } = CHANNEL_DEFINITIONS[channel];
    if (implicitAddress) return true;
    return contact ? channel in user.contacts : pushTargets > 0;
  };
  const channelRows = CHANNELS.map((ch) => ({
    text: `${mark(isOn(prefs.rules, '*', ch))} ${ch}`,
    callback_data: `set:ch:${ch}`,
  }));
  const categoryRows = categories.map((c) => ({
    text: `${mark(isOn(prefs.rules, c, '*'))} ${c}`,
    callback_data: `set:cat:${c}`,
  }));
  const digestRows = categories.map((c) => ({
    text: `📬 ${c}: ${describeDigest(digestOf(prefs.digests, c))}`,
    callback_data: `set:dig:${c}`,
  }));
  const q = prefs.quietHours;
  const text = [
    'Your notification settings. Tap a switch to turn it on or off.',
    '',
    'Channels: ' +
      CHANNELS.map(
        (ch) => `${ch} ${isOn(prefs.rules, '*', ch) ? 'on' : 'off'}${address(ch) ? '' : ' (no address)'}`,
      ).join(', '),
    categories.length > 0
      ? 'Categories: ' + categories.map((c) => `${c} ${isOn(prefs.rules, c, '*') ? 'on' : 'off'}`).join(', ')
      : 'Categories appear here once you have notifications in them.',
    ...(categories.length > 0
      ? [
          'Digests (📬): ' +
            categories.map((c) => `${c} ${describeDigest(digestOf(prefs.digests, c))}`).join(', ') +
            ` (daily ones in ${prefs.timezone})`,
        ]
      : []),
    q
      ? `Quiet hours: ${q.start}-${q.end} ${q.timezone ?? prefs.timezone} (/quiet)`
      : 'Quiet hours: none (/quiet)',
  ].join('\n');
  const pairs = <T>(items: T[]) =>
    Array.from({ length: Math.ceil(items.length / 2) }, (_, i) => items.slice(i * 2, i * 2 + 2));
  return {
    text,
    markup: {
      inline_keyboard: [
        ...pairs(channelRows),
        ...pairs(categoryRows),
        ...pairs(digestRows),
        [{ text: 'Done', callback_data: 'set:done' }],
      ],
    },
  };
}

export async function showSettings(turn: Turn): Promise<void> {
  const view = await render(turn, turn.user!);
  await turn.reply(view.text, { reply_markup: view.markup });
}

// Telegram refuses an edit that changes nothing (a double tap); the message already shows the state.
const isNotModified = (error: unknown) =>
  error instanceof TelegramApiError && /message is not modified/i.test(error.description);

/** A tap on a /settings button: flip the switch, answer the tap, redraw the message in place. */
export async function handleSettingsTap(turn: Turn, query: CallbackQuery): Promise<void> {
  const answer = (text: string, alert = false) =>
    turn.api.answerCallbackQuery({ callback_query_id: query.id, text, show_alert: alert });
  const match = CALLBACK.exec(query.data ?? '');
  const message = query.message && 'text' in query.message ? query.message : undefined;
  if (!match || !message)
    return void (await answer('This button no longer works. Send /settings again.', true));
  if (!turn.user) return void (await answer(NOT_LINKED, true));
  const target = { chat_id: turn.chatId, message_id: message.message_id };

  if (match[3] === 'done') {
    await answer('Saved');
    await turn.api
      .editMessageReplyMarkup({ ...target, reply_markup: { inline_keyboard: [] } })
      .catch((error: unknown) => {
        if (!isNotModified(error)) throw error;
      });
    return;
  }
  const [kind, name] = [match[1]!, match[2]!];
  const isChannel = kind === 'ch';
  if (isChannel && !(CHANNELS as readonly string[]).includes(name))
    return void (await answer('Unknown channel. Send /settings again.', true));
  if (!isChannel && turn.deps.config.delivery.mandatoryCategories.includes(name))
    return void (await answer(`${name} notifications are always delivered.`, true));

  const { db } = turn.deps;
  const prefs = await preferencesOf(db, turn.user);
  let rules: PreferenceRule[] = prefs.rules;
  let digests = prefs.digests;
  let said: string;
  if (kind === 'dig') {
    const next = nextDigest(digestOf(digests, name));
    digests = withDigestChoice(digests, { category: name, ...next });
    said = `${name}: ${describeDigest(next)}`;
  } else {
    const [category, channel] = isChannel ? ['*', name] : [name, '*'];
    rules = flip(prefs.rules, category, channel);
    said = `${name} ${isOn(rules, category, channel) ? 'on' : 'off'}`;
  }
  const parsed = preferencesSchema.safeParse({ rules, quietHours: prefs.quietHours, digests });
  if (!parsed.success) return void (await answer('That setting cannot be changed here.', true));
  const saved = await putPreferences(db, turn.user.id, parsed.data);
  turn.deps.logger.info({ chatId: turn.chatId, kind, name }, 'preference switched');

  await answer(said);
  const view = await render(turn, turn.user, saved);
  await turn.api
    .editMessageText({ ...target, text: view.text, reply_markup: view.markup })
    .catch((error: unknown) => {
      if (!isNotModified(error)) throw error;
    });
}
