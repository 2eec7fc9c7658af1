// The channel limit: how fast Herald's email provider alone reaches the same SMTP sink.
import { perSecond } from '../load.js';
import { runNodeForJson } from '../../tools/local-stack/processes.js';
import { log } from '../progress.js';
import { clearSinks } from '../receipts.js';
import type { BenchStack } from '../stack.js';

export interface ChannelLimitResult {
  emails: number;
  concurrency: number;
  emailsPerSecond: number;
  durationMs: number;
}

export async function runChannelLimit(
  stack: BenchStack,
  options: { notifications: number; concurrency: number },
): Promise<ChannelLimitResult> {
  clearSinks(stack.sinks);
  log(`smtp: ${options.notifications} emails through nodemailer's pool, ${options.concurrency} at once`);
  const { sent, ms } = await runNodeForJson<{ sent: number; ms: number }>('bench/channel-limit.ts', [
    stack.sinks.smtp.url,
    String(options.notifications),
    String(options.concurrency),
  ]);
  clearSinks(stack.sinks);
  return {
    emails: sent,
    concurrency: options.concurrency,
    emailsPerSecond: perSecond(sent, ms),
    durationMs: Math.round(ms),
  };
}
