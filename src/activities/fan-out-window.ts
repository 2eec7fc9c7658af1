// A campaign's pace: a fan-out (bulk or broadcast) starts a recipient's workflow only while fewer than
// `size` of the workflows it started are still waiting for their first step. Without it a fan-out starts
// thousands of workflows within seconds, and Temporal queues their first tasks ahead of any urgent
// notification that comes after: on a history shard, new tasks reach the task queues in the order they
// were made, before priority can reorder them. With it, the campaign's backlog waits in PostgreSQL (rows
// `accepted`, not started) and Temporal's queues hold only a window of it, which priority then orders.
// The window is sized to keep the workers busy, so the campaign's own rate does not drop.
import { setTimeout as sleep } from 'node:timers/promises';

/** Started workflows of this fan-out still waiting for their first step (their row still `accepted`). */
export type CountWaiting = () => Promise<number>;

export interface FanOutWindowOptions {
  /** At most this many started, not yet resolved, notifications at a time. */
  size: number;
  countWaiting: CountWaiting;
  /** How often a full window looks again. */
  pollMs?: number;
  /**
   * A full window whose count has not dropped for this long stops holding the fan-out back: the window
   * paces, it must never wedge a campaign (a workflow that cannot take its first step is Temporal's and
   * the reconciler's to deal with, not a reason to stop the other recipients).
   */
  stallMs?: number;
  /** Stops the waiting (the activity was cancelled). */
  signal?: AbortSignal;
  /** Called on every look while held: the activity heartbeats, which is also how a cancel reaches it. */
  whileHeld?: () => void;
  now?: () => number;
}

export const DEFAULT_FAN_OUT_WINDOW = 20;
const POLL_MS = 250;
const STALL_MS = 30_000;

export class FanOutWindow {
  readonly #options: Required<Omit<FanOutWindowOptions, 'signal' | 'whileHeld'>> &
    Pick<FanOutWindowOptions, 'signal' | 'whileHeld'>;
  /** Waiting as last counted, plus the starts admitted since (unknown until the first count). */
  #estimate = Number.POSITIVE_INFINITY;
  /** One count at a time, shared by every lane that finds the window full. */
  #counting: Promise<number> | undefined;
  /** Since when the window has been found full, without room in between. */
  #fullSince: number | undefined;
  #stalled = false;
  /** Starts that waited for room: how often the window held the fan-out back. */
  held = 0;

  constructor(options: FanOutWindowOptions) {
    this.#options = { pollMs: POLL_MS, stallMs: STALL_MS, now: Date.now, ...options };
  }

  /** Resolves true when one more workflow may start, false if the signal aborted first. */
  async admit(): Promise<boolean> {
    const { size, pollMs, signal, whileHeld } = this.#options;
    let looks = 0;
    for (;;) {
      if (signal?.aborted) return false;
      // Lanes that shared a count take the room it found one at a time, here.
      if (this.#estimate < size || this.#stalled) break;
      if (looks > 0) {
        whileHeld?.();
        // Not tied to the signal: each held lane would add a listener to it; a cancel waits one poll at most.
        await sleep(pollMs);
        if (signal?.aborted) return false;
      }
      await this.#count();
      looks += 1;
    }
    // More than one look: it found the window full and waited (the first count only learns the size).
    if (looks > 1) this.held += 1;
    this.#estimate += 1;
    return true;
  }

  /** The window stopped pacing: it stayed full for `stallMs`, none of its workflows taking a step. */
  get stalled(): boolean {
    return this.#stalled;
  }

  #count(): Promise<number> {
    // Only while the window is full (or unknown), so no admit is in flight to be lost by the overwrite.
    this.#counting ??= this.#options
      .countWaiting()
      .then((waiting) => {
        this.#estimate = waiting;
        const now = this.#options.now();
        if (waiting < this.#options.size) this.#fullSince = undefined;
        else if (this.#fullSince === undefined) this.#fullSince = now;
        else if (now - this.#fullSince >= this.#options.stallMs) this.#stalled = true;
        return waiting;
      })
      .finally(() => {
        this.#counting = undefined;
      });
    return this.#counting;
  }
}
