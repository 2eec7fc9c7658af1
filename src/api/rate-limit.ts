import type { Request, RequestHandler, Response } from 'express';
import { createTokenBuckets } from '../platform/token-bucket.js';
import { HttpProblem } from './problem.js';

export interface RateLimitOptions {
  /** Tokens added to each key's bucket per second: the sustained rate. */
  perSecond: number;
  /** Bucket size: how many requests a key may make at once after being idle. */
  burst: number;
  /** Milliseconds on a monotonic clock; injectable so tests need not sleep. */
  now?: () => number;
}

export type RateLimiter = RequestHandler & {
  /** Buckets held in memory (one per key seen since it was last full). */
  size(): number;
  /**
   * Charges `cost` more tokens to the request's key (a bulk request: one a recipient beyond the one its
   * arrival took); throws 429 with Retry-After when they are not there, taking nothing. A cost beyond
   * what a full bucket holds passes from a full bucket and leaves the key waiting for the rest.
   */
  charge(req: Request, res: Response, cost: number): void;
};

/** The one policy this limiter applies, named in the RateLimit-Policy and RateLimit fields. */
const POLICY = '"per-key"';

/**
 * A token bucket per API key (req.caller.keyId, never the key itself); mount it after requireApiKey.
 *
 * Buckets live in this process's memory, so the limit is per API replica: N replicas allow N times
 * the rate. A global limit would keep the buckets in a shared store such as Redis (one atomic
 * refill-and-take script per request); this one needs nothing outside the process.
 *
 * Headers follow the IETF draft draft-ietf-httpapi-ratelimit-headers (structured fields):
 * `RateLimit-Policy: "per-key";q=<burst>;w=<seconds to refill>` and
 * `RateLimit: "per-key";r=<remaining>;t=<seconds until full>` on every response, plus `Retry-After` on 429.
 */
export function rateLimitPerKey({
  perSecond,
  burst,
  now = () => performance.now(),
}: RateLimitOptions): RateLimiter {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError('perSecond must be positive');
  if (!Number.isInteger(burst) || burst < 1)
    throw new RangeError('burst must be a whole number of at least 1');

  const perMs = perSecond / 1000;
  const policy = `${POLICY};q=${burst};w=${Math.ceil(burst / perMs / 1000)}`;
  const buckets = createTokenBuckets({ perMs, burst, now });

  const charge = (req: Request, res: Response, cost: number, need?: number) => {
    if (!req.caller) throw new Error('rateLimitPerKey needs req.caller: mount it after requireApiKey');
    const take = buckets.take(req.caller.keyId, cost, need);
    res.setHeader('RateLimit-Policy', policy);
    res.setHeader(
      'RateLimit',
      `${POLICY};r=${Math.max(0, Math.floor(take.tokens))};t=${Math.ceil(take.untilFullMs / 1000)}`,
    );
    if (take.allowed) return;

    const retryAfter = Math.max(1, Math.ceil(take.retryAfterMs / 1000));
    throw new HttpProblem(
      429,
      'rate-limited',
      'Too many requests',
      need === undefined
        ? `This API key is limited to ${perSecond} requests a second (bursts of ${burst}); retry in ${retryAfter} s`
        : `This request costs ${cost + 1} tokens (one a recipient) and this API key is limited to ${perSecond} a second (bursts of ${burst}); retry in ${retryAfter} s`,
      undefined,
      { 'Retry-After': String(retryAfter) },
    );
  };

  const limiter: RequestHandler = (req, res, next) => {
    charge(req, res, 1);
    next();
  };
  return Object.assign(limiter, {
    size: buckets.size,
    // The request's arrival took one token already: a full bucket is burst - 1 now.
    charge: (req: Request, res: Response, cost: number) => {
      if (cost > 0) charge(req, res, cost, Math.min(cost, burst - 1));
    },
  });
}
