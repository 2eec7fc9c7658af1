import { createTokenBuckets } from '../platform/token-bucket.js';

/**
 * A token bucket per chat: `perMinute` messages a minute, in bursts of as many. Buckets live in the
 * bot process's memory; a full bucket is dropped, so memory follows the chats active this minute.
 */
export function createChatRateLimit(perMinute: number, now: () => number = () => performance.now()) {
  const buckets = createTokenBuckets({ perMs: perMinute / 60_000, burst: perMinute, now });
  /** Chats refused since their last allowed message: they were told once already. */
  const warned = new Set<string>();

  return {
    /**
     * `allowed` takes a token; `warn` is true on the first refusal of a run, so a flooding chat gets
     * one answer rather than one per message.
     */
    take(chatId: string): { allowed: boolean; warn: boolean; retryAfterS: number } {
      const take = buckets.take(chatId);
      if (take.allowed) {
        warned.delete(chatId);
        return { allowed: true, warn: false, retryAfterS: 0 };
      }
      const warn = !warned.has(chatId);
      // Bounded like the buckets: a chat forgotten here is at worst warned once more.
      if (warned.size > 10_000) warned.clear();
      warned.add(chatId);
      return { allowed: false, warn, retryAfterS: Math.max(1, Math.ceil(take.retryAfterMs / 1000)) };
    },
  };
}

export type ChatRateLimit = ReturnType<typeof createChatRateLimit>;
