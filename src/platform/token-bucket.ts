// Token buckets by key, in this process's memory: the API's per-key limit and the bot's per-chat limit.

export interface TokenBucketOptions {
  /** Tokens added to each bucket per millisecond: the sustained rate. */
  perMs: number;
  /** Bucket size: how many takes a key may make at once after being idle. */
  burst: number;
  /** Milliseconds on a monotonic clock; injectable so tests need not sleep. */
  now?: () => number;
}

export interface Take {
  allowed: boolean;
  /** Tokens left in the key's bucket after this take. */
  tokens: number;
  /** When refused: milliseconds until a token is back. */
  retryAfterMs: number;
  /** Milliseconds until the bucket is full again. */
  untilFullMs: number;
}

export function createTokenBuckets({ perMs, burst, now = () => performance.now() }: TokenBucketOptions) {
  const refillMs = burst / perMs;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();

  // A bucket idle long enough to be full is the same as no bucket: dropping it bounds memory by the
  // keys active in the last refill period. Sweeping on takes needs no timer to close.
  const sweep = (at: number) => {
    if (at - lastSweep < refillMs) return;
    lastSweep = at;
    // A bucket in debt (a take of more than the burst) needs longer than refillMs to be full.
    for (const [key, bucket] of buckets)
      if (at - bucket.at >= (burst - bucket.tokens) / perMs) buckets.delete(key);
  };

  return {
    /**
     * Takes `cost` tokens when at least `need` are there (by default the cost, at most the burst). A cost
     * beyond the burst passes only from a full bucket and leaves it in debt: the sustained rate holds.
     */
    take(key: string, cost = 1, need = Math.min(cost, burst)): Take {
      const at = now();
      sweep(at);
      const bucket = buckets.get(key) ?? { tokens: burst, at };
      bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, at - bucket.at) * perMs);
      bucket.at = at;
      buckets.set(key, bucket);
      const allowed = bucket.tokens >= need;
      if (allowed) bucket.tokens -= cost;
      return {
        allowed,
        tokens: bucket.tokens,
        retryAfterMs: allowed ? 0 : (need - bucket.tokens) / perMs,
        untilFullMs: (burst - bucket.tokens) / perMs,
      };
    },
    /** Buckets held (one per key seen since it was last full). */
    size: () => buckets.size,
  };
}
