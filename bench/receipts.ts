// What reached the sinks, as (channel, recipient index, time): every recipient's address names its
// index (bench/stack.ts), so a receipt names its notification without parsing the message.
import type { Sinks } from '../tools/fakes/sinks.js';

export type BenchChannel = 'email' | 'push' | 'telegram';

export interface Receipt {
  channel: BenchChannel;
  index: number;
  at: number;
}

const indexOf = (match: RegExpExecArray | null): number => (match ? Number(match[1]) : -1);

/** Takes everything the sinks received since the last call, and forgets it there (a soak would pile up). */
export function drainReceipts(sinks: Sinks): Receipt[] {
  const receipts: Receipt[] = [];
  for (const mail of sinks.smtp.messages.splice(0)) {
    const index = indexOf(/^u(\d+)@bench\.test$/.exec(mail.envelopeTo[0] ?? ''));
    receipts.push({ channel: 'email', index, at: mail.at });
  }
  for (const request of sinks.push.received.splice(0)) {
    receipts.push({ channel: 'push', index: indexOf(/^\/push\/u(\d+)$/.exec(request.path)), at: request.at });
  }
  for (const message of sinks.telegram.messages.splice(0)) {
    receipts.push({ channel: 'telegram', index: Number(message.chatId) - 1_000_000, at: message.at });
  }
  sinks.telegram.requests.splice(0);
  return receipts;
}

/** Forgets anything a previous part left at the sinks. */
export function clearSinks(sinks: Sinks): void {
  drainReceipts(sinks);
  sinks.sms.reset();
}
