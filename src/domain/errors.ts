// What can go wrong in the domain, in its own words. Each door says it its own way: the API maps these to
// problem+json in one place (src/api/problem.ts), the bot to a reply. Nothing here knows HTTP.

export interface FieldError {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  /** A stable, machine-readable name of the case, such as `user-exists` (the API's problem type). */
  abstract readonly code: string;
}

/** The thing asked for does not exist (or is not the caller's to see). */
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  readonly code = 'not-found';
  constructor(what: string) {
    super(`${what} was not found`);
  }
}

/** The caller is known but may not do this (an API key without the scope): nothing was changed. */
export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  readonly code = 'forbidden';
}

/** The request clashes with the current state: a taken externalId, a finished notification. */
export class ConflictError extends DomainError {
  override name = 'ConflictError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A part Herald depends on (Temporal, the database) did not answer: the same request may succeed later. */
export class UnavailableError extends DomainError {
  override name = 'UnavailableError';
  readonly code = 'service-unavailable';
}

/** The input is well-formed but refers to something that cannot be used (an unknown user or template). */
export class InvalidInputError extends DomainError {
  override name = 'InvalidInputError';
  constructor(
    readonly code: string,
    /** A short summary: "Unknown user". */
    readonly title: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}
