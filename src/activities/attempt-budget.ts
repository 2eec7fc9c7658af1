// How long one delivery attempt may talk to its provider. Temporal ends an attempt at its start-to-close
// timeout, or sooner when heartbeats stop, but cannot stop the worker's sockets: a send that went on
// would overlap the retry. So the attempt keeps to a budget below that timeout, aborts its send when
// the budget runs out or Temporal gives up on it, and holds a lease on its delivery a little longer
// than the budget (src/store/deliveries.ts), so no other attempt sends while it may still be talking.
import { Context } from '@temporalio/activity';
import type { SendAttempt } from './channels/registry.js';

/** Used when the activity carries no start-to-close timeout (every delivery activity sets one). */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Kept back from the timeout to record how the attempt ended before Temporal gives up on it: a fifth
 * of it, at least 1 s (never more than half) and at most 10 s. A 60 s timeout leaves 50 s to send.
 */
export function attemptBudgetMs(startToCloseTimeoutMs: number): number {
  const t = startToCloseTimeoutMs;
  const reserve = Math.min(10_000, Math.max(Math.min(1_000, t / 2), t / 5));
  return Math.max(0, Math.floor(startToCloseTimeoutMs - reserve));
}

/** How long the lease outlasts the budget: time for an aborted send to close its connection. */
export const LEASE_MARGIN_MS = 5_000;

export interface AttemptBudget extends SendAttempt {
  readonly budgetMs: number;
  /** How long the attempt holds its delivery's lease. */
  readonly leaseMs: number;
  /** Why the attempt was stopped (its budget ran out, or it was cancelled); undefined if it was not. */
  stoppedBecause(): string | undefined;
  /** Stops the timer and the heartbeats; the attempt is over. */
  end(): void;
}

/** Starts the current activity's budget, and heartbeats until `end()`. */
export function startAttemptBudget(context: Context = Context.current()): AttemptBudget {
  const { startToCloseTimeoutMs, heartbeatTimeoutMs } = context.info;
  const budgetMs = attemptBudgetMs(startToCloseTimeoutMs || DEFAULT_TIMEOUT_MS);
  const deadline = Date.now() + budgetMs;
  const timeout = AbortSignal.timeout(budgetMs);
  // Cancelled: the notification was cancelled, Temporal gave up on the attempt (a heartbeat brings
  // either back), or the worker is shutting down.
  const signal = AbortSignal.any([timeout, context.cancellationSignal]);
  // Heartbeats tell Temporal the worker is alive, and bring back a cancellation; the SDK throttles them.
  const heartbeats = heartbeatTimeoutMs
    ? setInterval(() => context.heartbeat(), Math.max(100, heartbeatTimeoutMs / 4))
    : undefined;
  return {
    signal,
    deadline,
    budgetMs,
    leaseMs: budgetMs + LEASE_MARGIN_MS,
    stoppedBecause() {
      if (timeout.aborted) return `timed out: the attempt's ${budgetMs / 1000} s ran out`;
      if (context.cancellationSignal.aborted) {
        const reason: unknown = context.cancellationSignal.reason;
        // CANCELLED, TIMED_OUT or NOT_FOUND (Temporal gave up on it), WORKER_SHUTDOWN, ...
        return `stopped: the attempt was cancelled (${reason instanceof Error ? reason.message : String(reason)})`;
      }
      return undefined;
    },
    end() {
      clearInterval(heartbeats);
    },
  };
}
