// <herald-inbox>: Herald's in-app inbox as a web component. A bell with the unread count; its panel lists
// the user's messages, newest first, loading more as it scrolls; a click marks one read and opens its
// link; changes arrive live over Server-Sent Events. No framework, no build step: Herald serves this file,
// with herald-inbox.css and inbox-connection.js, as one classic script (src/api/inbox/routes.ts).
//   <script src="https://herald.example.com/inbox/herald-inbox.js"></script>
//   <herald-inbox token="<from POST /v1/users/:id/inbox-token>"></herald-inbox>
// Attributes: token (required), api (Herald's URL; default: where this script came from), label, align.
// Theme with --herald-inbox-* custom properties and ::part(bell|badge|panel|item). Events:
// `herald-inbox-unauthorized` (the token expired or was revoked: set a new one), `herald-inbox-open`,
// `herald-inbox-message` (a new message arrived; detail: the message).
const scriptOrigin = document.currentScript ? new URL(document.currentScript.src).origin : location.origin;
const BELL =
  '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">' +
  '<path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>';
const ago = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [7, 'day'],
  [4.35, 'week'],
  [12, 'month'],
  [Infinity, 'year'],
];
function relative(iso) {
  let value = (Date.parse(iso) - Date.now()) / 1000;
  for (const [size, unit] of STEPS) {
    if (Math.abs(value) < size) return ago.format(Math.round(value), unit);
    value /= size;
  }
}
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
/** Only http(s) links leave the page; the server allows nothing else either. */
const safeUrl = (url, base) => {
  try {
    const parsed = new URL(url, base);
    return ['http:', 'https:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
};

class HeraldInbox extends HTMLElement {
  static observedAttributes = ['token', 'api', 'label'];
  #items = new Map();
  #cursor = undefined; // undefined: first page not loaded; null: no more pages
  #unread = 0;
  #connection = null;
  #stale = false;
  #loading = false;
  #started = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in root) {
      // Adopted, not a <style> element: pages whose CSP forbids inline styles still style it.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(HERALD_INBOX_CSS);
      root.adoptedStyleSheets = [sheet];
    } else root.append(el('style', { textContent: HERALD_INBOX_CSS }));
    // Static markup only: every message's text goes in through textContent, never as HTML.
    const shell = document.createElement('template');
    shell.innerHTML = `
        <button type="button" class="bell" part="bell" aria-expanded="false" aria-controls="panel">${BELL}
          <span class="badge" part="badge" aria-hidden="true" hidden></span></button>
        <section id="panel" class="panel" part="panel" aria-labelledby="heading" hidden>
          <header><h2 id="heading" tabindex="-1">Notifications</h2>
            <button type="button" class="link read-all">Mark all read</button></header>
          <ul part="list" aria-labelledby="heading"><li class="sentinel" aria-hidden="true"></li></ul>
          <p class="note">Loading…</p>
        </section>
        <p class="sr" role="status"></p>`;
    root.append(shell.content);
    const $ = (selector) => root.querySelector(selector);
    [this.bell, this.badge, this.panel, this.heading, this.readAll] = [
      '.bell',
      '.badge',
      '.panel',
      'h2',
      '.read-all',
    ].map($);
    [this.list, this.sentinel, this.note, this.live] = ['ul', '.sentinel', '.note', '[role=status]'].map($);

    this.bell.addEventListener('click', () => this.toggle());
    this.readAll.addEventListener('click', () => this.#markAllRead());
    this.addEventListener('keydown', (event) => this.#onKey(event));
    this.#outside = (event) => !event.composedPath().includes(this) && this.toggle(false);
    new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && this.#loadMore(), {
      root: this.list,
    }).observe(this.sentinel);
  }
  #outside;

  get open() {
    return !this.panel.hidden;
  }

  connectedCallback() {
    this.#started = true;
    this.#render();
    this.#connect();
  }
  disconnectedCallback() {
    this.#connection?.close();
    document.removeEventListener('pointerdown', this.#outside);
  }
  attributeChangedCallback(name, before, now) {
    if (name === 'label') return this.#render();
    if (before !== now && this.#started && this.isConnected) this.#connect();
  }

  /** Opens or closes the panel; opening loads the feed and marks what it shows seen. */
  toggle(open = !this.open) {
    if (open === this.open) return;
    this.panel.hidden = !open;
    this.bell.setAttribute('aria-expanded', String(open));
    if (open) {
      document.addEventListener('pointerdown', this.#outside);
      this.heading.focus();
      if (this.#cursor === undefined || this.#stale) this.#reload();
      else this.#markSeen();
      this.dispatchEvent(new CustomEvent('herald-inbox-open', { bubbles: true, composed: true }));
    } else {
      document.removeEventListener('pointerdown', this.#outside);
      if (this.shadowRoot.activeElement) this.bell.focus();
    }
  }

  #call(path, options) {
    return this.#connection.call(path, options);
  }

  /** (Re)connects with the current token; a new token resumes from the last event received. */
  #connect() {
    const [api, token] = [this.getAttribute('api') || scriptOrigin, this.getAttribute('token')];
    if (this.#connection) Object.assign(this.#connection, { api, token });
    else
      this.#connection = new InboxConnection(api, token, {
        message: (item) => {
          // The counts that follow say so too: counted here, they do not look like news from elsewhere.
          if (!item.readAt) this.#unread += 1;
          this.#add(item, true);
        },
        counts: ({ unread }) => {
          if (unread !== this.#unread && this.#cursor !== undefined) this.#stale = true;
          this.#unread = unread;
          this.#render();
          if (this.#stale && this.open) this.#reload();
        },
        unauthorized: (reason) =>
          this.dispatchEvent(
            new CustomEvent('herald-inbox-unauthorized', {
              bubbles: true,
              composed: true,
              detail: { reason },
            }),
          ),
      });
    this.#connection.connect();
  }

  async #reload() {
    this.#stale = false;
    this.#cursor = undefined;
    await this.#loadMore(true);
  }
  async #loadMore(fresh = false) {
    if (this.#loading || (!fresh && (this.#cursor == null || !this.open))) return;
    this.#loading = true;
    try {
      const query = this.#cursor ? `?cursor=${encodeURIComponent(this.#cursor)}` : '';
      const page = await this.#call(`/messages${query}`);
      if (fresh) {
        this.#items.clear();
        this.list.replaceChildren(this.sentinel);
      }
      for (const item of page.items) this.#add(item, false);
      this.#cursor = page.nextCursor;
      this.#markSeen();
    } catch {
      this.note.textContent = 'Notifications could not be loaded.';
      this.note.hidden = false;
      return;
    } finally {
      this.#loading = false;
    }
    this.#render();
  }

  /** Adds or updates an item, in its place by time (newest first); `live`: it has just arrived. */
  #add(item, live) {
    if (live) {
      this.dispatchEvent(
        new CustomEvent('herald-inbox-message', { bubbles: true, composed: true, detail: item }),
      );
      this.live.textContent = `New notification: ${item.title}`;
    }
    const known = this.#items.get(item.id);
    if (known) {
      // Updated in place: the element may be a link being followed right now.
      known.item = item;
      known.node.classList.toggle('unread', !item.readAt);
      known.node.querySelector('.sr').textContent = item.readAt ? '' : ', unread';
      const acknowledge = known.node.querySelector('.acknowledge');
      if (acknowledge) showAcknowledgement(acknowledge, item);
      return this.#render();
    }
    if (live && this.#cursor === undefined) return this.#render(); // the first page will bring it
    const node = this.#itemNode(item);
    this.#items.set(item.id, { item, node });
    const older = [...this.list.children].find(
      (li) => li.dataset.id && this.#items.get(li.dataset.id).item.createdAt < item.createdAt,
    );
    this.list.insertBefore(node, older ?? this.sentinel);
    if (live && this.open) this.#markSeen();
    this.#render();
  }

  #itemNode(item) {
    const unread = !item.readAt;
    const url = item.url && safeUrl(item.url, location.href);
    const main = el(
      url ? 'a' : 'button',
      { className: 'main' },
      el('span', { className: 'dot' }),
      // One element, so a screen reader says "Title, unread" as one phrase.
      el(
        'span',
        { className: 'title' },
        item.title,
        el('span', { className: 'sr', textContent: unread ? ', unread' : '' }),
      ),
      ...(item.body ? [el('span', { className: 'body', textContent: item.body })] : []),
      el('time', {
        dateTime: item.createdAt,
        title: new Date(item.createdAt).toLocaleString(),
        textContent: relative(item.createdAt),
      }),
    );
    if (url) main.href = url;
    else main.type = 'button';
    main.addEventListener('click', () => this.#open(item, { clicked: Boolean(url) }));
    const actions = item.actions.map((action) =>
      el('button', {
        type: 'button',
        textContent: action.label,
        onclick: () => this.#open(item, { action: action.id }, action.url),
      }),
    );
    if (item.ackRequested) {
      const acknowledge = el('button', {
        type: 'button',
        className: 'acknowledge',
        part: 'acknowledge',
        onclick: () => this.#acknowledge(item.id),
      });
      showAcknowledgement(acknowledge, item);
      actions.unshift(acknowledge);
    }
    const li = el(
      'li',
      { className: unread ? 'unread' : '', part: 'item' },
      main,
      ...(actions.length ? [el('div', { className: 'actions' }, ...actions)] : []),
    );
    li.dataset.id = item.id;
    return li;
  }

  /** A click: marks it read (keepalive, so a link that leaves the page does not cancel it). */
  #open(item, body, actionUrl) {
    if (!item.readAt) this.#unread = Math.max(0, this.#unread - 1);
    this.#add(
      {
        ...item,
        readAt: item.readAt || new Date().toISOString(),
        seenAt: item.seenAt || new Date().toISOString(),
      },
      false,
    );
    this.#call(`/messages/${item.id}/read`, { method: 'POST', body, keepalive: true })
      .then((updated) => this.#add(updated, false))
      .catch(() => undefined);
    const url = actionUrl && safeUrl(actionUrl, location.href);
    if (url) location.assign(url);
  }

  /** The message's Acknowledge button: recorded by the inbox API (which reads it too), then shown done. */
  async #acknowledge(id) {
    const entry = this.#items.get(id);
    const button = entry?.node.querySelector('.acknowledge');
    if (!entry || !button) return;
    button.disabled = true;
    try {
      const updated = await this.#call(`/messages/${id}/acknowledge`, { method: 'POST' });
      if (!entry.item.readAt) this.#unread = Math.max(0, this.#unread - 1);
      this.#add(updated, false);
      this.live.textContent = `Acknowledged: ${updated.title}`;
    } catch {
      button.disabled = false;
    }
  }

  async #markAllRead() {
    this.readAll.disabled = true;
    try {
      await this.#call('/read-all', { method: 'POST' });
      this.#unread = 0;
      for (const { item } of this.#items.values())
        if (!item.readAt) this.#add({ ...item, readAt: new Date().toISOString() }, false);
      this.live.textContent = 'All notifications marked read';
    } finally {
      this.#render();
    }
  }

  #markSeen() {
    if (!this.open) return;
    for (const entry of this.#items.values()) {
      if (entry.item.seenAt || entry.seeing) continue;
      entry.seeing = true;
      this.#call(`/messages/${entry.item.id}/seen`, { method: 'POST' }).then(
        (updated) => this.#add(updated, false),
        () => undefined,
      );
    }
  }

  /** Escape closes; arrow keys, Home and End move between messages. */
  #onKey(event) {
    if (event.key === 'Escape' && this.open) return (this.toggle(false), event.preventDefault());
    const mains = [...this.list.querySelectorAll('.main')];
    const at = mains.indexOf(this.shadowRoot.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: mains.length - 1 }[event.key];
    if (to === undefined || (at < 0 && !['Home', 'End'].includes(event.key)) || !this.open) return;
    event.preventDefault();
    mains[Math.max(0, Math.min(mains.length - 1, to))]?.focus();
  }

  #render() {
    const label = this.getAttribute('label') || 'Notifications';
    const unread = this.#unread;
    this.badge.hidden = unread === 0;
    this.badge.textContent = unread > 99 ? '99+' : String(unread);
    this.bell.setAttribute('aria-label', `${label}, ${unread === 0 ? 'no unread' : `${unread} unread`}`);
    this.heading.textContent = label;
    this.readAll.disabled = unread === 0;
    const loaded = this.#cursor !== undefined;
    this.note.hidden = loaded && this.#items.size > 0;
    this.note.textContent = loaded ? 'You are all caught up.' : 'Loading…';
  }
}

/** An Acknowledge button says whether its message was acknowledged, and works only until it is. */
function showAcknowledgement(button, item) {
  button.disabled = Boolean(item.acknowledgedAt);
  button.textContent = item.acknowledgedAt ? '✓ Acknowledged' : 'Acknowledge';
}

if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInbox);
