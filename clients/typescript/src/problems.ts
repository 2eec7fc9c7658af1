// Herald answers every error as application/problem+json (RFC 9457): each becomes a HeraldProblem, or
// one of its subclasses by status, so callers can `catch (e) { if (e instanceof ValidationProblem) … }`.
import type { components } from './schema.js';

export type ProblemBody = components['schemas']['Problem'];
export type FieldError = NonNullable<ProblemBody['errors']>[number];

/** Herald's problem types, the last part of `type` (https://herald.dev/problems/<name>); others may come. */
export type ProblemName =
  | 'malformed-json'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'user-exists'
  | 'idempotency-key-reused'
  | 'cannot-cancel'
  | 'cannot-retry'
  | 'too-many-webhooks'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'validation-error'
  | 'unknown-user'
  | 'unknown-template'
  | 'rate-limited'
  | 'internal-error'
  | 'service-unavailable'
  | (string & {});

const PROBLEM_BASE = 'https://herald.dev/problems/';

/** An error answer from Herald. */
export class HeraldProblem extends Error {
  override name = 'HeraldProblem';
  /** The problem's name, such as `unknown-user`: switch on this (or on the subclass). */
  readonly problem: ProblemName;
  readonly type: string;
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** Each invalid field, for 422 `validation-error`. */
  readonly errors: FieldError[];
  /** The response's X-Request-Id: Herald's logs and the notification's workflow carry it. */
  readonly requestId?: string;
  /** Seconds the server asked to wait (Retry-After), for 429 and 503. */
  readonly retryAfterSeconds?: number;

  constructor(body: ProblemBody, response?: Response) {
    super(body.detail ? `${body.title}: ${body.detail}` : body.title);
    this.type = body.type;
    this.problem = body.type.startsWith(PROBLEM_BASE) ? body.type.slice(PROBLEM_BASE.length) : body.type;
    this.status = body.status;
    this.title = body.title;
    this.detail = body.detail;
    this.errors = body.errors ?? [];
    this.requestId = response?.headers.get('x-request-id') ?? undefined;
    const retryAfter = response && retryAfterMs(response);
    this.retryAfterSeconds = retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000);
  }
}

export class BadRequestProblem extends HeraldProblem {
  override name = 'BadRequestProblem';
}
export class UnauthorizedProblem extends HeraldProblem {
  override name = 'UnauthorizedProblem';
}
export class ForbiddenProblem extends HeraldProblem {
  override name = 'ForbiddenProblem';
}
export class NotFoundProblem extends HeraldProblem {
  override name = 'NotFoundProblem';
}
export class ConflictProblem extends HeraldProblem {
  override name = 'ConflictProblem';
}
/** 422: invalid input (`errors` names each field), or it names what does not exist (`unknown-user`). */
export class ValidationProblem extends HeraldProblem {
  override name = 'ValidationProblem';
}
/** 429, after the client's own retries ran out. */
export class RateLimitedProblem extends HeraldProblem {
  override name = 'RateLimitedProblem';
}
/** 503, after the client's own retries ran out. */
export class UnavailableProblem extends HeraldProblem {
  override name = 'UnavailableProblem';
}

const BY_STATUS: Record<number, typeof HeraldProblem> = {
  400: BadRequestProblem,
  401: UnauthorizedProblem,
  403: ForbiddenProblem,
  404: NotFoundProblem,
  409: ConflictProblem,
  422: ValidationProblem,
  429: RateLimitedProblem,
  503: UnavailableProblem,
};

const isProblemBody = (body: unknown): body is ProblemBody =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as ProblemBody).type === 'string' &&
  typeof (body as ProblemBody).title === 'string';

/**
 * The exception for an error response. A body that is no problem (a proxy's HTML page) still becomes a
 * HeraldProblem, of type `about:blank` as RFC 9457 has it.
 */
export function problemFrom(response: Response, body: unknown): HeraldProblem {
  const problem: ProblemBody = isProblemBody(body)
    ? { ...body, status: typeof body.status === 'number' ? body.status : response.status }
    : {
        type: 'about:blank',
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        ...(typeof body === 'string' && body ? { detail: body.slice(0, 500) } : {}),
      };
  const Problem = BY_STATUS[response.status] ?? HeraldProblem;
  return new Problem(problem, response);
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(response: Response, now = Date.now()): number | undefined {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
