// A credential reused until it is due for renewal (FCM's access token, APNs's provider token): sends that
// find none wait for the one being made instead of each making their own.

export interface TokenCache {
  get(): Promise<string>;
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
    async get() {
      if (cached && cached.renewAt > now()) return cached.token;
      pending ??= make()
        .then((made) => {
          cached = made;
          return made.token;
        })
        .finally(() => {
          pending = undefined;
        });
      return pending;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}
