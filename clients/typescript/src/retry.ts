// A fetch that tries again when Herald says "not now" (429, 503), waiting as long as its Retry-After
// asks, and, for requests safe to repeat, when the connection failed. Every attempt sends the same
// request, Idempotency-Key included, so a repeated send returns the first notification.
import { retryAfterMs } from './problems.js';

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Give up once this much time has passed since the first attempt (default: no limit but the attempts). */
  maxElapsedMs?: number;
  /** The first wait when the server names none; it doubles each attempt, with jitter (default 500 ms). */
  initialDelayMs?: number;
  /** The longest single wait, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  /** Called before each wait: for logs and counters. */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** The status that asked for the retry, or undefined for a connection failure. */
  status?: number;
  error?: unknown;
  delayMs: number;
  method: string;
  url: string;
}

export type Fetch = (request: Request) => Promise<Response>;

const RETRY_STATUSES = new Set([429, 503]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A connection failure may have reached the server: only a request safe to repeat is sent again. */
const repeatable = (request: Request) =>
  SAFE_METHODS.has(request.method) || request.headers.has('idempotency-key');

const sleep = (ms: number, signal?: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

export function retryingFetch(
  fetch: Fetch,
  options: RetryOptions = {},
  /** Each attempt gives up after this long (an AbortSignal timeout); unset: no limit. */
  attemptTimeoutMs?: number,
): Fetch {
  const maxAttempts = options.maxAttempts ?? 5;
  const initialDelayMs = options.initialDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  return async (request) => {
    const started = Date.now();
    const backoff = (attempt: number) =>
      Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= maxAttempts;
      const signal = attemptTimeoutMs
        ? AbortSignal.any([request.signal, AbortSignal.timeout(attemptTimeoutMs)])
        : request.signal;
      let response: Response;
      try {
        // The body of a Request is read once: every attempt sends a copy.
        response = await fetch(new Request(request.clone(), { signal }));
      } catch (error) {
        if (last || request.signal.aborted || !repeatable(request)) throw error;
        const delayMs = backoff(attempt);
        if (options.maxElapsedMs !== undefined && Date.now() - started + delayMs > options.maxElapsedMs)
          throw error;
        options.onRetry?.({ attempt, error, delayMs, method: request.method, url: request.url });
        await sleep(delayMs, request.signal);
        continue;
      }
      if (!RETRY_STATUSES.has(response.status) || last) return response;
      const delayMs = Math.min(maxDelayMs, retryAfterMs(response) ?? backoff(attempt));
      if (options.maxElapsedMs !== undefined && Date.now() - started + delayMs > options.maxElapsedMs)
        return response;
      // Free the connection: this answer is not the one the caller gets.
      await response.body?.cancel().catch(() => undefined);
      options.onRetry?.({
        attempt,
        status: response.status,
        delayMs,
        method: request.method,
        url: request.url,
      });
      await sleep(delayMs, request.signal);
    }
  };
}
