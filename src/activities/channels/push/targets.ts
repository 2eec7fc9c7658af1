// One send to one push target (a browser subscription or a phone), and what a user's targets made of a
// notification together: delivered when any one accepted it.
import {
  parseRetryAfter,
  systemCode,
  type FailureClass,
  type OutgoingMessage,
  type SendAttempt,
  type SendResult,
} from '../channel.js';

/** What one target's provider answered, already judged: senders never throw. */
export type TargetOutcome =
  | { kind: 'accepted'; providerMessageId?: string }
  /** The provider says the target no longer exists: it is deactivated and never called again. */
  | { kind: 'gone'; failure: FailureClass }
  | { kind: 'failed'; failure: FailureClass };

/** Delivers to one kind of target (browser subscriptions, FCM devices, APNs devices). */
export interface TargetSender<T> {
  /** Stops talking to the provider when the attempt's signal aborts. */
  send(target: T, message: OutgoingMessage, attempt?: SendAttempt): Promise<TargetOutcome>;
  close(): Promise<void>;
}

/** A push failure judged once, where the responses are known; classify() passes it through. */
export class PushDeliveryError extends Error {
  override name = 'PushDeliveryError';
  constructor(
    message: string,
    readonly failure: FailureClass,
  ) {
    super(message);
  }
}

/** A failure that may pass on another attempt, after the delay the provider asked for, if any. */
export function transient(reason: string, retryAfter?: string | string[]): FailureClass {
  const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  return { permanent: false, reason, ...(retryAfterMs !== undefined && { retryAfterMs }) };
}

/** A request that got no answer (refused, reset, timed out): only the code, since messages name hosts. */
export function networkFailure(service: string, error: unknown): FailureClass {
  const code = systemCode(error);
  return transient(code ? `${service} network error (${code})` : `${service} network error`);
}

const distinctReasons = (outcomes: TargetOutcome[]) =>
  [...new Set(outcomes.flatMap((o) => (o.kind === 'accepted' ? [] : [o.failure.reason])))].join('; ');

/** What a user's targets are called in results and reasons: "subscription", "subscription and device". */
export interface TargetNames {
  one: string;
  many: string;
}

/** The send's result from every target's outcome; throws the failure to record when none accepted. */
export function settle(outcomes: TargetOutcome[], names: TargetNames): SendResult {
  const accepted = outcomes.filter((o) => o.kind === 'accepted').length;
  // Reaching one of the user's devices delivers the notification. Failing the attempt over another
  // device's 5xx would make Temporal retry the whole send and show it twice on the devices that accepted.
  if (accepted > 0) return { providerMessageId: `${accepted}/${outcomes.length} ${names.many} accepted` };

  if (outcomes.every((o) => o.kind === 'gone')) {
    const message = `every push ${names.one} is gone`;
    throw new PushDeliveryError(message, {
      permanent: true,
      reason: `${message} (${distinctReasons(outcomes)})`,
    });
  }
  // Retried while any target may still come back; a retry only reaches the still-active ones.
  const transient = outcomes.flatMap((o) => (o.kind === 'failed' && !o.failure.permanent ? [o.failure] : []));
  // Wait as long as the most insistent provider asked.
  const delays = transient.flatMap((f) => (f.retryAfterMs === undefined ? [] : [f.retryAfterMs]));
  const reason = distinctReasons(outcomes);
  throw new PushDeliveryError(`no push ${names.one} accepted the message: ${reason}`, {
    permanent: transient.length === 0,
    reason,
    ...(delays.length > 0 && { retryAfterMs: Math.max(...delays) }),
  });
}
