import { DomainError } from '../domain/errors.js';
import { HttpProblem, PROBLEM_BASE, problemFor } from './problem.js';
import { acceptBulk as acceptBulkSend, type BulkOutcome } from '../domain/bulk-sends.js';
import type { AcceptContext } from '../domain/notifications.js';
import type { BulkResult } from '../domain/views.js';
import type { BulkNotification } from '../domain/schemas.js';

/** Room for 10,000 recipients of up to 200 characters each (3 bytes each in UTF-8) beside the content. */
export const BULK_BODY_LIMIT = '8mb';

/**
 * The answer to a bulk send: one result per recipient, in the order given. A bad recipient, or one whose
 * recording failed unexpectedly, is reported in its own item and the others still go. With an
 * Idempotency-Key, each recipient gets `<key>:<recipient>`, so repeating the whole request repeats nothing.
 */
export async function acceptBulk(ctx: AcceptContext, input: BulkNotification): Promise<BulkResult[]> {
  const { outcomes } = await acceptBulkSend(ctx, input);
  return outcomes.map(resultOf);
}

function resultOf(outcome: BulkOutcome): BulkResult {
  if (!('error' in outcome)) return outcome;
  // Unavailable is reported per item too: the caller retries just those (safely, with a key).
  // An unexpected error is that item's too (the domain logged its cause): the others went on.
  const { error, recipient } = outcome;
  const problem =
    error instanceof DomainError
      ? problemFor(error)
      : new HttpProblem(
          500,
          'internal-error',
          'Internal error',
          'Something went wrong on our side; retry this recipient',
        );
  return {
    recipient,
    error: { type: PROBLEM_BASE + problem.type, title: problem.title, detail: problem.detail },
  };
}
