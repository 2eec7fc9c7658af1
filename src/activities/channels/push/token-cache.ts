// A credential reused until it is due for renewal (FCM's access token, APNs's provider token): sends that
// find none wait for the one being made instead of each making their own.

export interface TokenCache {
  /** A send whose `signal` aborts stops waiting; the token being made is still kept for the others. */
  get(signal?: AbortSignal): Promise<string>;
  /** The provider refused this token (revoked, expired early): the next get() makes another. */
  invalidate(token: string): void;
}

/** `make` returns a new token and until when (by `now`) it may be reused. */
export function createTokenCache(
  make: () => Promise<{ token: string; renewAt: number }>,
  now: () => number,
): TokenCache {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    async get(signal) {
      if (cached && cached.renewAt > now()) return cached.token;
      pending ??= make()
        .then((made) => {
          cached = made;
          return made.token;
        })
        .finally(() => {
          pending = undefined;
        });
      return signal ? untilAborted(pending, signal) : pending;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** `promise`, or the signal's reason once it aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
