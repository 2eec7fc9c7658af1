import { DomainError } from '../domain/errors.js';
import { HttpProblem, PROBLEM_BASE, problemFor } from './problem.js';
import { acceptNotification, type AcceptContext } from '../domain/notifications.js';
import type { BulkResult } from '../domain/views.js';
import type { BulkNotification } from '../domain/schemas.js';

/** How many recipients are accepted at once: enough to keep Temporal busy, not to flood the pool. */
const CONCURRENCY = 16;

/**
 * Starts one notification per recipient, a bounded number at a time. A bad recipient, or one whose
 * accept failed unexpectedly, is reported in its own item and the others still go. With an
 * Idempotency-Key, each recipient gets `<key>:<recipient>`, so repeating the whole request repeats nothing.
 */
export async function acceptBulk(ctx: AcceptContext, input: BulkNotification): Promise<BulkResult[]> {
  const { recipients, ...common } = input;
  const results: BulkResult[] = new Array(recipients.length);
  const seen = new Set<string>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < recipients.length; i = next++) {
      const recipient = recipients[i]!;
      if (seen.has(recipient)) {
        results[i] = {
          recipient,
          error: {
            type: PROBLEM_BASE + 'duplicate-recipient',
            title: 'Duplicate recipient',
            detail: 'listed earlier in this request',
          },
        };
        continue;
      }
      seen.add(recipient);
      try {
        const accepted = await acceptNotification(
          {
            ...ctx,
            idempotencyKey: ctx.idempotencyKey && `${ctx.idempotencyKey}:${recipient}`,
            door: 'bulk',
          },
          { ...common, userId: recipient },
        );
        results[i] = { recipient, id: accepted.id, status: accepted.status, workflowId: accepted.workflowId };
      } catch (error) {
        // Unavailable is reported per item too: the caller retries just those (safely, with a key).
        // An unexpected error is that item's too: the others go on, and the log keeps the cause.
        if (!(error instanceof DomainError))
          ctx.logger.error({ err: error, requestId: ctx.requestId, recipient }, 'bulk item failed');
        const problem =
          error instanceof DomainError
            ? problemFor(error)
            : new HttpProblem(
                500,
                'internal-error',
                'Internal error',
                'Something went wrong on our side; retry this recipient',
              );
        results[i] = {
          recipient,
          error: { type: PROBLEM_BASE + problem.type, title: problem.title, detail: problem.detail },
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, recipients.length) }, worker));
  return results;
}
