// When a digest's window closes: the one place that decides it, so a person's digest preference
// (hourly, daily at a local hour) can move it without touching the digest workflow.
import { durationMs, type DigestStep } from './steps.js';

export interface DigestWindowRequest {
  step: Pick<DigestStep, 'window'>;
  userId: string;
  category: string;
  /** When the window opened (workflow time, epoch ms). */
  openedAt: number;
}

/** Epoch ms at which the window that opened at `openedAt` closes: the step's window, for now. */
export async function digestWindowEnd(request: DigestWindowRequest): Promise<number> {
  return request.openedAt + durationMs(request.step.window)!;
}
