// <herald-inbox>'s connection to Herald: the feed's requests with the inbox token, and the event stream,
// which EventSource reconnects itself after a network error (sending Last-Event-ID). A stream closed for
// good (a refusal, a proxy's 502 while the API restarts) is opened again after a backoff, from the last
// event id, unless the token was refused: then the page is told, and waits for a new token.
// Served inside herald-inbox.js (src/api/inbox/routes.ts puts the files together).

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- herald-inbox.js uses it: served in one scope
class InboxConnection {
  #retries = 0;
  #retryTimer;
  #source = null;
  #lastEventId;

  /**
   * `api`: Herald's URL; `on`: message(item), counts({unread, unseen}), unauthorized(reason). A changed
   * `token` or `api` takes effect on the next connect().
   */
  constructor(api, token, on) {
    Object.assign(this, { api, token, on });
  }

  #url(path) {
    return new URL(`${this.api.replace(/\/+$/, '')}/inbox/v1${path}`);
  }

  async call(path, { method = 'GET', body, keepalive = false } = {}) {
    const res = await fetch(this.#url(path), {
      method,
      // A read marked as its link leaves the page still reaches Herald.
      keepalive,
      cache: 'no-store',
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401) {
      const { type = '' } = await res.json().catch(() => ({}));
      this.close();
      this.on.unauthorized(type.split('/').pop() || 'unauthorized');
    }
    if (!res.ok) throw new Error(`Herald answered ${res.status}`);
    return res.json();
  }

  /** Opens the stream (again, from the last event received, when it was open before). */
  connect() {
    this.close();
    if (!this.token) return;
    // EventSource sends no Authorization header: the token goes in the query, which Herald never logs.
    const url = this.#url('/stream');
    url.searchParams.set('token', this.token);
    if (this.#lastEventId !== undefined) url.searchParams.set('lastEventId', this.#lastEventId);
    const source = (this.#source = new EventSource(url));
    source.addEventListener('open', () => (this.#retries = 0));
    for (const kind of ['message', 'counts'])
      source.addEventListener(kind, (event) => {
        this.#lastEventId = event.lastEventId;
        this.on[kind](JSON.parse(event.data));
      });
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED || source !== this.#source) return;
      // Why it closed: a refused token ends here (call() says so); anything else retries.
      const retry = () => {
        if (source !== this.#source) return;
        const delay = Math.min(30_000, 1000 * 2 ** this.#retries++);
        this.#retryTimer = setTimeout(() => this.connect(), delay);
      };
      this.call('/counts').then(retry, retry);
    });
  }

  close() {
    clearTimeout(this.#retryTimer);
    this.#source?.close();
    this.#source = null;
  }
}
