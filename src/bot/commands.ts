// The bot's commands: linking, contacts, quiet hours, status and help. /settings and /send have their
// own modules. Every value a person types is validated with the API's own schemas before it is stored.
import { NotFoundError } from '../domain/errors.js';
import { CHANNEL_DEFINITIONS, type ChannelName } from '../activities/channels/registry.js';
import { notificationIdSchema, preferencesSchema } from '../domain/schemas.js';
import { getNotification } from '../domain/notifications.js';
import { getPreferences, putPreferences, updateUser } from '../domain/users.js';
import type { UserRecord } from '../domain/users.js';
import { preferenceLinksFromConfig } from '../domain/preference-links.js';
import { redeemLinkToken } from '../domain/telegram-link.js';
import {
  VERIFICATION_CODE,
  VERIFICATION_MAX_ATTEMPTS,
  dropVerification,
  verifyContact,
} from '../domain/contact-verification.js';
import { sendVerificationCode } from './verification.js';
import { findInBotHistory, latestBotHistory } from '../store/bot-history.js';
import { firstIssue, quote } from './input.js';
import { cancelSend, startSend } from './send.js';
import { showSettings } from './settings.js';
import type { Turn } from './turn.js';

export interface CommandSpec {
  /** Shown by /help and registered with Telegram (setMyCommands). */
  description: string;
  /** Refused, with directions, until the chat is linked to a user. */
  needsLink: boolean;
  run(turn: Turn, args: string): Promise<void>;
}

type Linked = Turn & { user: UserRecord };

const linked =
  (run: (turn: Linked, args: string) => Promise<void>) =>
  (turn: Turn, args: string): Promise<void> =>
    run(turn as Linked, args);

async function start(turn: Turn, args: string): Promise<void> {
  const { db } = turn.deps;
  await db.telegramChat.upsert({
    where: { chatId: turn.chatId },
    create: { chatId: turn.chatId },
    update: {},
  });
  if (!args) {
    await turn.reply(
      turn.user
        ? `Welcome back. This chat is linked to ${quote(turn.user.externalId)}. /help lists what I can do.`
        : "Hello! I am Herald's bot.\n\nTo receive notifications here and send them, link this chat to " +
            'your account: open the link your service gave you, or send /start followed by the code. /help lists the rest.',
    );
    return;
  }
  const result = await redeemLinkToken(db, args, turn.chatId);
  if (result.linked) {
    turn.deps.logger.info({ chatId: turn.chatId, userId: result.userId }, 'chat linked');
    await turn.reply(
      `Linked: this chat now receives the notifications of ${quote(result.externalId)}.\n\n` +
        'Set your contacts with /email and /phone, choose channels in /settings, and /send a notification.',
    );
    return;
  }
  const why = {
    malformed: 'That does not look like a link code. Open the link again, or copy the whole code.',
    unknown: 'I do not know that link code. Ask your service for a new link.',
    expired: 'That link has expired. Ask your service for a new one.',
    used: 'That link was already used. Ask your service for a new one.',
  }[result.reason];
  await turn.reply(why);
}

/**
 * `/email` and `/phone`: show, clear with `off`, or set (validated like PATCH /v1/users/:id). A new
 * address takes effect only after /verify with the code sent to it; until then the old one stays.
 */
function contactCommand(command: 'email' | 'phone', channel: ChannelName, label: string, example: string) {
  return linked(async (turn, args) => {
    const current = turn.user.contacts[channel];
    if (!args) {
      await turn.reply(
        `Your ${label}: ${current ? quote(current) : 'not set'}.\n` +
          `Set it with /${command} ${example}, or clear it with /${command} off.`,
      );
      return;
    }
    const value =
      args.toLowerCase() === 'off' ? null : channel === 'sms' ? args.replace(/[\s().-]/g, '') : args;
    const parsed = CHANNEL_DEFINITIONS[channel].contact!.schema.nullable().safeParse(value);
    if (!parsed.success) {
      await turn.reply(
        `${quote(args)} is not a valid ${label} (${firstIssue(parsed.error)}). Example: /${command} ${example}`,
      );
      return;
    }
    const { db } = turn.deps;
    if (parsed.data === null) {
      await dropVerification(db, turn.user.id, channel);
      await updateUser(db, turn.user.id, { contacts: { [channel]: null } });
      await turn.reply(`Your ${label} is cleared.`);
      return;
    }
    if (parsed.data === current) {
      await dropVerification(db, turn.user.id, channel);
      await turn.reply(`${quote(parsed.data)} is already your ${label}.`);
      return;
    }
    const sent = await sendVerificationCode(turn, channel, parsed.data);
    if (sent === 'unavailable') {
      await turn.reply(
        `I cannot check a new ${label} here: this Herald does not send on ${channel}. Nothing changed.`,
      );
      return;
    }
    if (sent === 'limited') {
      await turn.reply(
        `Too many codes were sent today to ${quote(parsed.data)} or for your account. Try again tomorrow. Nothing changed.`,
      );
      return;
    }
    if (sent === 'failed') {
      await turn.reply(
        `I could not send a code to ${quote(parsed.data)}. Check it and try again later. Nothing changed.`,
      );
      return;
    }
    await turn.reply(
      `I sent a code to ${quote(parsed.data)}. Send /verify <code> within 15 minutes to make it your ${label}.\n` +
        (current ? `Until then your ${label} stays ${quote(current)}.` : 'Until then you have none.'),
    );
  });
}

/** `/verify <code>`: the code sent by /email or /phone; the right one stores the new contact. */
async function verify(turn: Linked, args: string): Promise<void> {
  const code = args.replace(/\s/g, '');
  if (!VERIFICATION_CODE.test(code)) {
    await turn.reply('Send the six-digit code you received: /verify 123456.');
    return;
  }
  const result = await verifyContact(turn.deps.db, turn.user.id, code);
  if (result.ok) {
    turn.deps.logger.info({ chatId: turn.chatId, channel: result.channel }, 'contact verified');
    const label = result.channel === 'sms' ? 'phone number' : result.channel;
    await turn.reply(`Verified: your ${label} is now ${quote(result.address)}.`);
    return;
  }
  await turn.reply(
    {
      none: 'No code is waiting to be verified. Set an address with /email or /phone first.',
      expired: 'That code has expired. Set the address again with /email or /phone to get a new one.',
      wrong: `That code is not right. ${result.attemptsLeft} ${result.attemptsLeft === 1 ? 'try is' : 'tries are'} left.`,
      burned: `That code is not right, and it was the ${VERIFICATION_MAX_ATTEMPTS}th wrong try: the code no longer works. Set the address again to get a new one.`,
    }[result.reason],
  );
}

const QUIET_USAGE =
  'Usage: /quiet 22:00-07:00 Europe/Moscow (the time zone is optional: yours is used without it), or /quiet off.';

const pad = (time: string) => (time.length === 4 ? `0${time}` : time);

async function quiet(turn: Linked, args: string): Promise<void> {
  const { db } = turn.deps;
  const prefs = await getPreferences(db, turn.user.id);
  if (!args) {
    const q = prefs.quietHours;
    await turn.reply(
      q
        ? `Quiet hours: ${q.start}-${q.end} ${q.timezone ?? prefs.timezone}. Notifications wait until they end.\n${QUIET_USAGE}`
        : `No quiet hours are set.\n${QUIET_USAGE}`,
    );
    return;
  }
  let quietHours: unknown = null;
  if (args.toLowerCase() !== 'off') {
    const match = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})(?:\s+(\S+))?$/.exec(args);
    if (!match) {
      await turn.reply(`I could not read ${quote(args)}. ${QUIET_USAGE}`);
      return;
    }
    quietHours = { start: pad(match[1]!), end: pad(match[2]!), ...(match[3] ? { timezone: match[3] } : {}) };
  }
  const parsed = preferencesSchema.safeParse({ rules: prefs.rules, quietHours });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what = issue?.path.includes('timezone')
      ? `${quote(String((quietHours as { timezone?: string }).timezone))} is not a time zone I know (try Europe/Moscow or America/New_York)`
      : `those hours are not valid: ${issue?.message ?? 'check them'}`;
    await turn.reply(`${what[0]!.toUpperCase()}${what.slice(1)}. ${QUIET_USAGE}`);
    return;
  }
  await putPreferences(db, turn.user.id, parsed.data);
  const set = parsed.data.quietHours;
  await turn.reply(
    set
      ? `Quiet hours set: ${set.start}-${set.end} ${set.timezone ?? prefs.timezone}. Notifications in them wait until they end.`
      : 'Quiet hours are off: notifications arrive at any time.',
  );
}

/** /prefs: a link to the preference page, where all of this (and Web Push) can be set in a browser. */
async function prefs(turn: Linked): Promise<void> {
  const links = preferenceLinksFromConfig(turn.deps.config);
  if (!links) {
    await turn.reply('There is no settings page here. Use /settings and /quiet instead.');
    return;
  }
  const { url, expiresAt } = links.pageLink(turn.user);
  await turn.reply(
    `Your notification settings page: ${url}\n\n` +
      `The link is yours alone: do not share it. It works until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  );
}

type NotificationView = Awaited<ReturnType<typeof getNotification>>;

/** A delivery's error text is shown to its recipient only, never to someone who sent it to another user. */
const describeNotification = (n: NotificationView, showErrors: boolean): string =>
  [
    `Notification ${n.id}`,
    `${n.category}: ${n.title ? quote(n.title) : `template ${n.template}`}`,
    `Status: ${n.status}`,
    ...(n.deliveries.length === 0
      ? ['No deliveries yet.']
      : n.deliveries.map(
          (d) =>
            `• ${d.channel}: ${d.status}` +
            (d.attempts ? `, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : '') +
            (showErrors && d.lastError && d.status !== 'sent' ? ` (${d.lastError.slice(0, 200)})` : ''),
        )),
  ].join('\n');

/** A notification the user received, or sent through the bot. */
async function status(turn: Linked, args: string): Promise<void> {
  const { db } = turn.deps;
  if (!args) {
    const recent = await latestBotHistory(db, turn.user.id, 5);
    await turn.reply(
      recent.length === 0
        ? 'No notifications yet. /send one, then /status <id> shows its deliveries.'
        : ['Your latest notifications:', ...recent.map((n) => `• ${n.id} ${n.category}: ${n.status}`)].join(
            '\n',
          ) + '\n\n/status <id> shows the deliveries of one.',
    );
    return;
  }
  const id = notificationIdSchema.safeParse(args);
  if (!id.success) {
    await turn.reply(
      `${quote(args)} is not a notification id. It looks like 1d3cc5f9-5b8e-4f6a-9c1d-2e3f4a5b6c7d.`,
    );
    return;
  }
  const owned = await findInBotHistory(db, turn.user.id, id.data);
  const view = owned
    ? await getNotification(db, owned.id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      })
    : undefined;
  await turn.reply(
    view
      ? describeNotification(view, owned?.userId === turn.user.id)
      : `I found no notification ${id.data} of yours.`,
  );
}

async function help(turn: Turn): Promise<void> {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `/${name} - ${spec.description}`);
  await turn.reply(
    [
      'What I can do:',
      ...lines,
      '',
      '/send works in one line: /send <user id, externalId or "me"> | <subject> | <text>',
      turn.user
        ? `This chat is linked to ${quote(turn.user.externalId)}.`
        : 'Link this chat first: /start <code>.',
    ].join('\n'),
  );
}

export const COMMANDS: Record<string, CommandSpec> = {
  start: {
    description: 'register this chat; /start <code> links it to your account',
    needsLink: false,
    run: start,
  },
  help: { description: 'this list', needsLink: false, run: help },
  email: {
    description: 'show or set your email: /email ada@example.com, /email off',
    needsLink: true,
    run: contactCommand('email', 'email', 'email', 'ada@example.com'),
  },
  phone: {
    description: 'show or set your phone (E.164): /phone +14155550123, /phone off',
    needsLink: true,
    run: contactCommand('phone', 'sms', 'phone number', '+14155550123'),
  },
  verify: {
    description: 'confirm a new email or phone with the code sent to it: /verify 123456',
    needsLink: true,
    run: linked(verify),
  },
  settings: { description: 'turn channels and categories on or off', needsLink: true, run: showSettings },
  quiet: {
    description: 'quiet hours: /quiet 22:00-07:00 Europe/Moscow, /quiet off',
    needsLink: true,
    run: linked(quiet),
  },
  prefs: {
    description: 'a link to your settings page in the browser',
    needsLink: true,
    run: linked(prefs),
  },
  send: { description: 'send a notification, step by step or in one line', needsLink: true, run: startSend },
  status: {
    description: 'your latest notifications; /status <id> shows its deliveries',
    needsLink: true,
    run: linked(status),
  },
  cancel: { description: 'stop the /send in progress', needsLink: false, run: cancelSend },
};
