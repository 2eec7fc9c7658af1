import type { ErrorRequestHandler, Response } from 'express';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type FieldError,
} from '../domain/errors.js';
import type { Logger } from '../platform/logger.js';

export type { FieldError };

/** Stable problem types: clients may switch on `type`. */
export const PROBLEM_BASE = 'https://herald.dev/problems/';

/** The one error type of the API; the error handler turns it into application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const problems = {
  notFound: (what: string) => new HttpProblem(404, 'not-found', 'Not found', `${what} was not found`),
  validation: (errors: FieldError[]) =>
    new HttpProblem(422, 'validation-error', 'The request is invalid', 'See `errors` for each field', errors),
  conflict: (type: string, detail: string) => new HttpProblem(409, type, 'Conflict', detail),
  unavailable: (detail: string) =>
    new HttpProblem(503, 'service-unavailable', 'Service unavailable', detail, undefined, {
      'Retry-After': '5',
    }),
};

/** The one place a domain error becomes an HTTP status: the domain itself knows no HTTP. */
export function problemFor(error: DomainError): HttpProblem {
  if (error instanceof NotFoundError) return new HttpProblem(404, error.code, 'Not found', error.message);
  if (error instanceof ForbiddenError) return new HttpProblem(403, error.code, 'Forbidden', error.message);
  if (error instanceof ConflictError) return problems.conflict(error.code, error.message);
  if (error instanceof UnavailableError) return problems.unavailable(error.message);
  if (error instanceof InvalidInputError)
    return new HttpProblem(422, error.code, error.title, error.message, error.fields);
  return new HttpProblem(400, error.code, 'Bad request', error.message);
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({
      type: PROBLEM_BASE + problem.type,
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(problem.errors ? { errors: problem.errors } : {}),
    });
}

/** Maps every error to problem+json; internal messages and stacks go to the log, never to the client. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (error instanceof HttpProblem) return sendProblem(res, error);
    if (error instanceof DomainError) return sendProblem(res, problemFor(error));
    const e = error as { type?: string; status?: number; expose?: boolean };
    // body-parser's errors carry a status and a type.
    if (e.type === 'entity.parse.failed')
      return sendProblem(
        res,
        new HttpProblem(400, 'malformed-json', 'Malformed JSON', 'The body is not valid JSON'),
      );
    if (e.type === 'entity.too.large')
      return sendProblem(
        res,
        new HttpProblem(
          413,
          'payload-too-large',
          'Payload too large',
          // The route's own limit: 256 KB, or more for a bulk send.
          `The body exceeds ${Math.round(Number((e as { limit?: number }).limit ?? 262_144) / 1024)} KB`,
        ),
      );
    // The router could not decode a path parameter (`%ED%A0%80`, `%zz`): an invalid value, like any other.
    if (error instanceof URIError && e.status === 400)
      return sendProblem(
        res,
        problems.validation([{ field: '(path)', message: 'is not valid percent-encoded UTF-8' }]),
      );
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose)
      return sendProblem(res, new HttpProblem(e.status, 'bad-request', 'Bad request'));
    logger.error({ err: error, requestId: req.id }, 'unhandled error');
    sendProblem(
      res,
      new HttpProblem(500, 'internal-error', 'Internal error', 'Something went wrong on our side'),
    );
  };
}
