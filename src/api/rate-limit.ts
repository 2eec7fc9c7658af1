import type { RequestHandler } from 'express';
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
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

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
  const refillMs = burst / perMs;
  const policy = `${POLICY};q=${burst};w=${Math.ceil(refillMs / 1000)}`;
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();

  // A bucket idle long enough to be full is the same as no bucket: dropping it bounds memory by the
  // keys active in the last refill period. Sweeping on requests needs no timer to close.
  const sweep = (at: number) => {
    if (at - lastSweep < refillMs) return;
    lastSweep = at;
    for (const [key, bucket] of buckets) if (at - bucket.updatedAt >= refillMs) buckets.delete(key);
  };

  const limiter: RequestHandler = (req, res, next) => {
    if (!req.caller) throw new Error('rateLimitPerKey needs req.caller: mount it after requireApiKey');
    const at = now();
    sweep(at);
    const key = req.caller.keyId;
    const bucket = buckets.get(key) ?? { tokens: burst, updatedAt: at };
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, at - bucket.updatedAt) * perMs);
    bucket.updatedAt = at;
    buckets.set(key, bucket);

    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const untilFull = Math.ceil((burst - bucket.tokens) / perMs / 1000);
    res.setHeader('RateLimit-Policy', policy);
    res.setHeader('RateLimit', `${POLICY};r=${Math.floor(bucket.tokens)};t=${untilFull}`);
    if (allowed) return next();

    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    throw new HttpProblem(
      429,
      'rate-limited',
      'Too many requests',
      `This API key is limited to ${perSecond} requests a second (bursts of ${burst}); retry in ${retryAfter} s`,
      undefined,
      { 'Retry-After': String(retryAfter) },
    );
  };
  return Object.assign(limiter, { size: () => buckets.size });
}
