/**
 * Waiting for an item a test sink receives: the sink calls `notify()` after each item it keeps, and
 * `waitFor()` resolves with the first item that matches, whether it came before the call or after.
 */
export interface Waiters<T> {
  notify(): void;
  waitFor(predicate: (item: T) => boolean, timeoutMs?: number): Promise<T>;
}

/** `what` completes the timeout message "no matching <what> within N ms", naming the sink. */
export function createWaiters<T>(items: readonly T[], what: string): Waiters<T> {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const wake of waiters) wake();
    },
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = items.find((item) => predicate(item));
          if (found === undefined) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        if (!check()) waiters.add(check);
      });
    },
  };
}
