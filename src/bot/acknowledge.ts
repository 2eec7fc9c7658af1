// A tap on a notification's Acknowledge button: the button's payload names the delivery and is signed
// (acknowledgement-links.ts), and the tap counts only from the chat and message that delivery was sent as,
// so a forged payload or another chat's tap changes nothing. Recorded and signalled by the domain; the
// message's keyboard then shows it was acknowledged.
import type { CallbackQuery } from 'node-telegram-bot-api';
import { acknowledgementLinksFromConfig } from '../domain/acknowledgement-links.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { acknowledge } from '../domain/acknowledgements.js';
import { isTelegramSendUnrecorded } from '../store/acknowledgements.js';
import { isNotModified } from './settings.js';
import type { Turn } from './turn.js';

export const ACKNOWLEDGED_LABEL = '✅ Acknowledged';
const UNRECORDED_SEND_WAIT_MS = 5000;
const UNRECORDED_SEND_POLL_MS = 200;

export async function handleAcknowledgeTap(turn: Turn, query: CallbackQuery): Promise<void> {
  const answer = (text: string, alert = false) =>
    turn.api.answerCallbackQuery({ callback_query_id: query.id, text, show_alert: alert });
  const data = query.data ?? '';
  const deliveryId = acknowledgementLinksFromConfig(turn.deps.config)?.readButton(data);
  const messageId = query.message?.message_id;
  if (!deliveryId || messageId === undefined)
    return void (await answer('This button is not valid: nothing was acknowledged.', true));
  const claim = { via: 'telegram' as const, deliveryId, chatId: turn.chatId, messageId };
  let recorded = await acknowledge(turn.deps, claim);
  // A tap right after the message arrived can come before its send is recorded: wait for that briefly
  // (Telegram shows the button's spinner until it is answered) rather than refuse a genuine tap.
  for (
    const until = Date.now() + UNRECORDED_SEND_WAIT_MS;
    !recorded && Date.now() < until && (await isTelegramSendUnrecorded(turn.deps.db, deliveryId));
  ) {
    await sleep(UNRECORDED_SEND_POLL_MS);
    recorded = await acknowledge(turn.deps, claim);
  }
  if (!recorded) {
    turn.deps.logger.warn(
      { chatId: turn.chatId, deliveryId },
      'acknowledge tap refused: not this chat’s message',
    );
    return void (await answer('This button is not for this chat: nothing was acknowledged.', true));
  }
  turn.deps.logger.info(
    { chatId: turn.chatId, deliveryId, first: recorded.becameAcknowledged },
    'notification acknowledged in Telegram',
  );
  await answer(recorded.becameAcknowledged ? 'Acknowledged. Thank you.' : 'Already acknowledged.');
  // Redrawn on every tap, the first's edit may have failed; Telegram refuses one that changes nothing.
  await turn.api
    .editMessageReplyMarkup({
      chat_id: turn.chatId,
      message_id: messageId,
      reply_markup: { inline_keyboard: [[{ text: ACKNOWLEDGED_LABEL, callback_data: data }]] },
    })
    .catch((error: unknown) => {
      if (!isNotModified(error)) throw error;
    });
}
