// Load at a fixed concurrency, and the statistics of what it measured.
import { createHeraldClient, type HeraldClient } from '@herald/client';

/** Runs task(0) … task(count - 1) with at most `concurrency` in flight. */
export async function runConcurrent(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
  first = 0,
): Promise<void> {
  let next = first;
  const end = first + count;
  const lane = async () => {
    while (next < end) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Milliseconds, nearest-rank percentiles. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(sorted.at(-1) ?? 0),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
  };
}

/** The middle value (for an even count the mean of the middle two, to `digits` decimals). */
export const median = (values: readonly number[], digits = 1): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const scale = 10 ** digits;
  return sorted.length % 2
    ? sorted[mid]!
    : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * scale) / scale;
};

export const perSecond = (count: number, ms: number): number =>
  ms > 0 ? Math.round((count / (ms / 1000)) * 10) / 10 : 0;

/**
 * The benchmark's client for the API: @herald/client, without retries (a 429 or 503 while measuring is
 * an error to see, not to hide), so the benchmark calls the API as a service would.
 */
export const benchClient = (baseUrl: string, apiKey: string): HeraldClient =>
  createHeraldClient({ baseUrl, apiKey, retry: false });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
