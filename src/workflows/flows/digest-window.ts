// When a digest's window closes: the one place that decides it. The flow's step gives the window; a
// person who chose hourly or daily digests for the category (the preference page, the bot, the API) gets
// theirs at that time instead. `off`, the default, leaves the flow's own window.
import { patched, proxyLocalActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/index.js';
import { nextDigestTime } from '../../domain/digest-preference.js';
import { durationMs, type DigestStep } from './steps.js';

const { digestPreference } = proxyLocalActivities<Pick<NotificationActivities, 'digestPreference'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface DigestWindowRequest {
  step: Pick<DigestStep, 'window'>;
  userId: string;
  category: string;
  /** When the window opened (workflow time, epoch ms). */
  openedAt: number;
}

/** Epoch ms at which the window that opened at `openedAt` closes. */
export async function digestWindowEnd(request: DigestWindowRequest): Promise<number> {
  const stepEnd = request.openedAt + durationMs(request.step.window)!;
  // Digests that opened before people could choose read no preference: their histories replay as they ran.
  if (!patched('digest-preference')) return stepEnd;
  const preference = await digestPreference({ userId: request.userId, category: request.category });
  return nextDigestTime(preference, new Date(request.openedAt))?.getTime() ?? stepEnd;
}
