// /send: a linked person composes a notification (recipient, subject, text) in one line or step by
// step. The draft lives in telegram_chats, so a bot restart in the middle loses nothing.
import { z } from 'zod';
import { acceptNotification } from '../domain/notifications.js';
import { DomainError, NotFoundError, UnavailableError } from '../domain/errors.js';
import { createNotificationSchema, userIdParamSchema } from '../domain/schemas.js';
import { findUser } from '../domain/users.js';
import { Prisma } from '../store/db.js';
import { firstIssue, oneLine, quote } from './input.js';
import { NOT_LINKED, type Turn } from './turn.js';

/** The category of notifications people send through the bot. */
export const BOT_CATEGORY = 'message';
export const SUBJECT_LIMIT = 200;
/** Subject and text must fit one Telegram message (4096) when delivered. */
export const TEXT_LIMIT = 3800;
const DRAFT_TTL_MS = 30 * 60_000;

const draftSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('recipient') }),
  z.object({ step: z.literal('subject'), recipient: z.uuid() }),
  z.object({ step: z.literal('text'), recipient: z.uuid(), subject: z.string().min(1).max(SUBJECT_LIMIT) }),
]);
type Draft = z.infer<typeof draftSchema>;

const USAGE =
  'Send /send alone to be asked step by step, or all in one line:\n' +
  '/send <user id, externalId or "me"> | <subject> | <text>';

async function saveDraft(turn: Turn, draft: Draft | null): Promise<void> {
  const conversation = draft ?? Prisma.DbNull;
  await turn.deps.db.telegramChat.upsert({
    where: { chatId: turn.chatId },
    create: { chatId: turn.chatId, conversation },
    update: { conversation },
  });
}

/** The draft in progress, or undefined; an expired or unreadable one is dropped. */
async function loadDraft(turn: Turn): Promise<{ draft?: Draft; expired: boolean }> {
  const chat = await turn.deps.db.telegramChat.findUnique({ where: { chatId: turn.chatId } });
  if (!chat?.conversation) return { expired: false };
  const parsed = draftSchema.safeParse(chat.conversation);
  const expired = Date.now() - chat.updatedAt.getTime() > DRAFT_TTL_MS;
  if (!parsed.success || expired) {
    await saveDraft(turn, null);
    return { expired };
  }
  return { draft: parsed.data, expired: false };
}

/** Drops the draft when another command interrupts it. */
export async function dropDraft(turn: Turn): Promise<void> {
  await turn.deps.db.telegramChat.updateMany({
    where: { chatId: turn.chatId, conversation: { not: Prisma.DbNull } },
    data: { conversation: Prisma.DbNull },
  });
}

type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * The one answer to a person who may not send to others, whoever they named: it says nothing about
 * whether that user exists.
 */
export const ONLY_TO_YOURSELF =
  'You can send only to yourself ("me"). Sending to other users needs an operator to allow it.';

async function checkRecipient(turn: Turn, raw: string): Promise<Checked<{ id: string; label: string }>> {
  const text = oneLine(raw);
  const self = turn.user!;
  if (text.toLowerCase() === 'me') return { ok: true, value: { id: self.id, label: 'you' } };
  if (text === self.id || text === self.externalId)
    return { ok: true, value: { id: self.id, label: quote(self.externalId) } };
  // Not a relay: only users an operator marked as senders (botSender) reach anyone else. No lookup
  // happens for the others, so the refusal is the same for a user who exists and one who does not.
  if (!self.botSender) return { ok: false, problem: ONLY_TO_YOURSELF };
  const parsed = userIdParamSchema.safeParse(text);
  if (!parsed.success || !text) return { ok: false, problem: 'Give a user id, an externalId, or "me".' };
  try {
    const user = await findUser(turn.deps.db, parsed.data);
    return { ok: true, value: { id: user.id, label: quote(user.externalId) } };
  } catch (error) {
    if (error instanceof NotFoundError)
      return { ok: false, problem: `I know no user ${quote(text)}. Give a user id, an externalId, or "me".` };
    throw error;
  }
}

function checkSubject(raw: string): Checked<string> {
  const subject = oneLine(raw);
  if (!subject) return { ok: false, problem: 'The subject is empty. What is it about?' };
  if (subject.length > SUBJECT_LIMIT)
    return {
      ok: false,
      problem: `The subject is ${subject.length} characters long; keep it to ${SUBJECT_LIMIT}.`,
    };
  return { ok: true, value: subject };
}

function checkText(text: string): Checked<string> {
  if (!text) return { ok: false, problem: 'The text is empty. What should it say?' };
  if (text.length > TEXT_LIMIT)
    return { ok: false, problem: `The text is ${text.length} characters long; keep it to ${TEXT_LIMIT}.` };
  return { ok: true, value: text };
}

/** Validates the whole notification like POST /v1/notifications, then starts its workflow. */
async function dispatch(turn: Turn, recipient: string, subject: string, text: string): Promise<void> {
  // A draft addressed to someone else while the sender was allowed to: checked again as it is sent.
  if (recipient !== turn.user!.id && !turn.user!.botSender) {
    await dropDraft(turn);
    await turn.reply(ONLY_TO_YOURSELF);
    return;
  }
  const input = createNotificationSchema.safeParse({
    userId: recipient,
    category: BOT_CATEGORY,
    title: subject,
    body: text,
    data: { sentBy: turn.user!.id },
  });
  if (!input.success) {
    await turn.reply(`That notification is not valid: ${firstIssue(input.error)}.`);
    return;
  }
  const { db, temporal, logger } = turn.deps;
  try {
    const accepted = await acceptNotification(
      {
        db,
        temporal,
        logger,
        requestId: `telegram-update-${turn.updateId}`,
        // A redelivered update (webhook retries) finds the first notification instead of sending twice.
        idempotencyKey: `telegram-${turn.chatId}-${turn.messageId ?? turn.updateId}`,
        source: 'bot',
        categoryPriorities: turn.deps.config.categoryPriorities,
      },
      input.data,
    );
    logger.info({ chatId: turn.chatId, notificationId: accepted.id }, 'notification sent from the bot');
    await dropDraft(turn);
    await turn.reply(
      `Sent. Notification ${accepted.id} is on its way.\n/status ${accepted.id} shows its deliveries.`,
    );
  } catch (error) {
    if (error instanceof UnavailableError) {
      return turn.reply('Herald cannot start notifications right now. Send the text again in a minute.');
    }
    if (error instanceof DomainError) {
      await dropDraft(turn);
      await turn.reply(`Herald refused it: ${error.message}.`);
      return;
    }
    throw error;
  }
}

export async function startSend(turn: Turn, args: string): Promise<void> {
  if (!turn.user) return turn.reply(NOT_LINKED);
  if (!args) {
    await saveDraft(turn, { step: 'recipient' });
    await turn.reply('Who is it for? Send a user id, an externalId, or "me". /cancel stops.');
    return;
  }
  const parts = args.split('|');
  if (parts.length < 3) return turn.reply(`I need a recipient, a subject and a text.\n${USAGE}`);
  const [rawRecipient, rawSubject, ...rest] = parts;
  const recipient = await checkRecipient(turn, rawRecipient!);
  if (!recipient.ok) return turn.reply(recipient.problem);
  const subject = checkSubject(rawSubject!);
  if (!subject.ok) return turn.reply(subject.problem);
  const text = checkText(rest.join('|').trim());
  if (!text.ok) return turn.reply(text.problem);
  await dispatch(turn, recipient.value.id, subject.value, text.value);
}

/** Plain text while a draft is open answers its current question; false when no draft is open. */
export async function continueSend(turn: Turn, text: string): Promise<boolean> {
  const { draft, expired } = await loadDraft(turn);
  if (expired) {
    await turn.reply('Your /send draft expired. Start again with /send.');
    return true;
  }
  if (!draft) return false;
  if (!turn.user) {
    await saveDraft(turn, null);
    await turn.reply(NOT_LINKED);
    return true;
  }
  if (draft.step === 'recipient') {
    const recipient = await checkRecipient(turn, text);
    if (!recipient.ok) return turn.reply(recipient.problem).then(() => true);
    await saveDraft(turn, { step: 'subject', recipient: recipient.value.id });
    await turn.reply(`For ${recipient.value.label}. What is the subject?`);
  } else if (draft.step === 'subject') {
    const subject = checkSubject(text);
    if (!subject.ok) return turn.reply(subject.problem).then(() => true);
    await saveDraft(turn, { ...draft, step: 'text', subject: subject.value });
    await turn.reply('And the text?');
  } else {
    const body = checkText(text);
    if (!body.ok) return turn.reply(body.problem).then(() => true);
    await dispatch(turn, draft.recipient, draft.subject, body.value);
  }
  return true;
}

export async function cancelSend(turn: Turn): Promise<void> {
  // loadDraft already cleared a draft that expired or could not be read.
  const { draft } = await loadDraft(turn);
  if (draft) await dropDraft(turn);
  await turn.reply(draft ? 'Cancelled: nothing was sent.' : 'There is nothing to cancel.');
}
