// Bounded concurrency over a list: at most `limit` calls in flight, each lane taking the next item.

/** `Promise.all(items.map(fn))` with at most `limit` calls running at a time, results in order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  await eachBounded(items, limit, async (item, i) => {
    results[i] = await fn(item);
  });
  return results;
}

/** Runs `task` over `items`, `limit` at a time; stops taking new ones once `stop()` says so. */
export async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length && !stop(); i = next++) await task(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
