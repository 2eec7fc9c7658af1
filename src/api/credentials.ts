// What the API's routes share to read a caller's credentials and to bound and type a body. A leaf
// module: app.ts imports the routers that use it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpProblem } from './problem.js';

/** The largest request body any route parses. */
export const BODY_LIMIT = '256kb';

/** The token of `Authorization: Bearer <token>`, if the header has that form. */
export const bearerToken = (req: Request): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '')?.[1];

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares a given value with a secret in constant time (their SHA-256 digests, so lengths may differ). */
export function secretMatcher(secret: string): (given: string) => boolean {
  const expected = digest(secret);
  return (given) => timingSafeEqual(digest(given), expected);
}

/** Refuses a body that is not JSON before it is read; a request without a body passes. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const hasBody = Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding');
    if (hasBody && !req.is('application/json'))
      throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', 'Send application/json');
  }
  next();
};
