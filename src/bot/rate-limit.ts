/**
 * A token bucket per chat: `perMinute` messages a minute, in bursts of as many. Buckets live in the
 * bot process's memory; a full bucket is dropped, so memory follows the chats active this minute.
 */
export function createChatRateLimit(perMinute: number, now: () => number = () => performance.now()) {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number; warned: boolean }>();

  return {
    /**
     * `allowed` takes a token; `warn` is true on the first refusal of a run, so a flooding chat gets
     * one answer rather than one per message.
     */
    take(chatId: string): { allowed: boolean; warn: boolean; retryAfterS: number } {
      const at = now();
      if (buckets.size > 10_000) {
        for (const [id, b] of buckets) if (b.tokens + (at - b.at) * perMs >= perMinute) buckets.delete(id);
      }
      const bucket = buckets.get(chatId) ?? { tokens: perMinute, at, warned: false };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.at) * perMs);
      bucket.at = at;
      buckets.set(chatId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        bucket.warned = false;
        return { allowed: true, warn: false, retryAfterS: 0 };
      }
      const warn = !bucket.warned;
      bucket.warned = true;
      return {
        allowed: false,
        warn,
        retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      };
    },
  };
}

export type ChatRateLimit = ReturnType<typeof createChatRateLimit>;
