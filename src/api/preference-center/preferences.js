// The preference page: loads the user's settings with the token from its own link, saves each change
// at once (the server validates it again), subscribes this browser to Web Push, and sends a test.
// Plain browser JavaScript, no framework and no build step.

import { describeDigest, digestOf, digestSelect, digestValue, withDigest } from './digests.js';

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
const $ = (id) => document.getElementById(id);
const FINAL = ['sent', 'partially_sent', 'failed', 'skipped', 'cancelled', 'deferred'];

/** The page's state as the server last returned it (GET /preferences/api/state). */
let state;

/** A channel's name as people read it, as the server's channel registry gives it. */
const labelOf = (channel) => state.labels[channel] ?? channel;

class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/preferences/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (res.status === 204) return undefined;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data, res.headers.get('retry-after'));
  return data;
}

function say(text, kind = 'ok') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

function explain(error) {
  if (error.status === 410)
    return 'This link has expired. Open the link in a newer email, or ask for a new one.';
  if (error.status === 403) return 'This link is not valid. Open the link in your most recent email again.';
  if (error.status === 404) return 'This account no longer exists.';
  if (error.status === 422 && error.problem.errors)
    return `Not saved: ${error.problem.errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`;
  if (error instanceof ApiError) return `Not saved: ${error.message}.`;
  return 'Something went wrong. Check your connection and try again.';
}

// The most specific rule wins: (category, channel), (category, *), (*, channel), (*, *); none means on.
// The same order as isAllowed in src/activities/preferences.ts, which decides on delivery.
function allowed(rules, category, channel) {
  for (const [c, ch] of [
    [category, channel],
    [category, '*'],
    ['*', channel],
    ['*', '*'],
  ]) {
    const rule = rules.find((r) => r.category === c && r.channel === ch);
    if (rule) return rule.enabled;
  }
  return true;
}

/** The rules with (category, channel) set; a rule that changes nothing is left out. */
function withRule(rules, category, channel, enabled) {
  const rest = rules.filter((r) => !(r.category === category && r.channel === channel));
  return allowed(rest, category, channel) === enabled ? rest : [...rest, { category, channel, enabled }];
}

const usable = () => state.channels.filter((c) => c.available).map((c) => c.channel);

// One save at a time, each computed from the state the previous one returned.
let queue = Promise.resolve();
function save(change, describe, changeDigests) {
  queue = queue.then(async () => {
    const body = { rules: change(state.preferences.rules), quietHours: state.preferences.quietHours };
    if (changeDigests) body.digests = changeDigests(state.preferences.digests);
    try {
      state = await api('/preferences', { method: 'PUT', body });
      say(`Saved: ${describe()}.`);
    } catch (error) {
      say(explain(error), 'error');
    }
    refresh();
  });
  return queue;
}

function checkbox(id, label, { describedBy } = {}) {
  const wrap = document.createElement('div');
  wrap.className = 'check';
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.id = id;
  if (describedBy) input.setAttribute('aria-describedby', describedBy);
  const text = document.createElement('label');
  text.htmlFor = id;
  text.textContent = label;
  wrap.append(input, text);
  return { wrap, input };
}

function buildChannels() {
  const list = $('channels');
  list.textContent = '';
  for (const { channel } of state.channels) {
    const item = document.createElement('li');
    const { wrap, input } = checkbox(`channel-${channel}`, labelOf(channel), {
      describedBy: `channel-${channel}-detail`,
    });
    const note = document.createElement('span');
    note.className = 'detail';
    note.id = `channel-${channel}-detail`;
    wrap.querySelector('label').append(note);
    input.addEventListener('change', () => {
      const on = input.checked;
      save(
        (rules) => withRule(rules, '*', channel, on),
        () => `${labelOf(channel)} is ${on ? 'on' : 'off'}`,
      );
    });
    item.append(wrap);
    list.append(item);
  }
}

function buildCategories() {
  const root = $('categories');
  root.textContent = '';
  $('no-categories').hidden = state.categories.length > 0;
  for (const { category, mandatory } of state.categories) {
    const set = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = category;
    set.append(legend);
    if (mandatory) {
      set.className = 'mandatory';
      const note = document.createElement('p');
      note.className = 'hint';
      note.id = `cat-${category}-note`;
      note.textContent = 'Always sent: these notifications cannot be turned off.';
      set.append(note);
    }
    const all = checkbox(`cat-${category}`, `All “${category}” notifications`, {
      describedBy: mandatory ? `cat-${category}-note` : undefined,
    });
    all.input.dataset.category = category;
    set.append(all.wrap);
    const row = document.createElement('div');
    row.className = 'channels';
    for (const channel of usable()) {
      const cell = checkbox(`cat-${category}--${channel}`, labelOf(channel));
      cell.input.dataset.category = category;
      cell.input.dataset.channel = channel;
      cell.input.setAttribute('aria-label', `“${category}” by ${labelOf(channel)}`);
      row.append(cell.wrap);
      if (!mandatory)
        cell.input.addEventListener('change', () => {
          const on = cell.input.checked;
          save(
            (rules) => withRule(rules, category, channel, on),
            () => `“${category}” by ${labelOf(channel)} is ${on ? 'on' : 'off'}`,
          );
        });
    }
    set.append(
      row,
      digestSelect(category, (choice) =>
        save(
          (rules) => rules,
          () => `“${category}” notifications come as ${describeDigest(choice)}`,
          (digests) => withDigest(digests, category, choice),
        ),
      ),
    );
    if (!mandatory)
      all.input.addEventListener('change', () => {
        const on = all.input.checked;
        save(
          (rules) => {
            // Off: one rule for the whole category. On: follow the channel switches again.
            const rest = rules.filter((r) => r.category !== category);
            if (!on) return withRule(rest, category, '*', false);
            return usable().some((ch) => allowed(rest, category, ch))
              ? rest
              : withRule(rest, category, '*', true);
          },
          () => `“${category}” notifications are ${on ? 'on' : 'off'}`,
        );
      });
    root.append(set);
  }
}

/** Puts the saved state into the controls in place, so keyboard focus stays where it is. */
function refresh() {
  const rules = state.preferences.rules;
  for (const { channel, available, detail } of state.channels) {
    // A channel that cannot reach the user shows as off, whatever its rule says.
    const input = $(`channel-${channel}`);
    input.checked = available && allowed(rules, '*', channel);
    input.disabled = !available;
    $(`channel-${channel}-detail`).textContent = detail;
  }
  for (const { category, mandatory } of state.categories) {
    const cells = usable().map((channel) => {
      const input = $(`cat-${category}--${channel}`);
      input.checked = mandatory || allowed(rules, category, channel);
      input.disabled = mandatory;
      return input.checked;
    });
    const all = $(`cat-${category}`);
    all.checked = mandatory || cells.some(Boolean);
    all.indeterminate = !mandatory && cells.some(Boolean) && !cells.every(Boolean);
    all.disabled = mandatory;
    $(`digest-${category}`).value = digestValue(digestOf(state.preferences.digests, category));
  }
  $('digest-hint').textContent =
    `Digests collect notifications that come through a flow with a digest step. Daily digests follow your time zone (${state.timezone}).`;
}

function buildQuietHours() {
  const q = state.preferences.quietHours;
  $('quiet-on').checked = Boolean(q);
  $('quiet-start').value = q?.start ?? '22:00';
  $('quiet-end').value = q?.end ?? '07:00';
  $('quiet-times').disabled = !q;
  const zone = q?.timezone ?? state.timezone;
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const select = $('timezone');
  select.textContent = '';
  for (const name of [...new Set([zone, ...zones])].sort()) {
    const option = document.createElement('option');
    option.value = option.textContent = name;
    option.selected = name === zone;
    select.append(option);
  }
  const device = Intl.DateTimeFormat().resolvedOptions().timeZone;
  $('timezone-hint').textContent =
    device && device !== zone ? `This device is set to ${device}.` : 'Quiet hours follow this time zone.';
}

async function saveQuietHours(event) {
  event.preventDefault();
  const on = $('quiet-on').checked;
  const start = $('quiet-start').value;
  const end = $('quiet-end').value;
  const timezone = $('timezone').value;
  if (on && (!start || !end || start === end)) {
    say('Choose when quiet hours start and end (two different times).', 'error');
    $(start ? 'quiet-end' : 'quiet-start').focus();
    return;
  }
  const button = $('quiet-save');
  button.disabled = true;
  await (queue = queue.then(async () => {
    try {
      state = await api('/preferences', {
        method: 'PUT',
        body: { rules: state.preferences.rules, quietHours: on ? { start, end } : null, timezone },
      });
      say(
        on
          ? `Saved: quiet hours ${start}–${end}, ${timezone}.`
          : `Saved: no quiet hours; time zone ${timezone}.`,
      );
    } catch (error) {
      say(explain(error), 'error');
    }
  }));
  button.disabled = false;
  buildQuietHours();
  refresh();
}

const pushSupported = () => 'serviceWorker' in navigator && 'PushManager' in window;

async function browserSubscription() {
  const registration = await navigator.serviceWorker.getRegistration('/preferences/');
  return registration ? registration.pushManager.getSubscription() : null;
}

function fromBase64Url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

async function renderPush() {
  const stateText = $('push-state');
  const subscribe = $('push-subscribe');
  const unsubscribe = $('push-unsubscribe');
  const list = $('push-list');
  subscribe.hidden = unsubscribe.hidden = true;
  list.textContent = '';
  if (!state.push) return void (stateText.textContent = 'Browser notifications are not offered here.');
  const current = pushSupported() ? await browserSubscription().catch(() => null) : null;
  const mine = current && state.push.subscriptions.find((s) => s.endpoint === current.endpoint);
  if (!pushSupported()) stateText.textContent = 'This browser cannot receive push notifications.';
  else if (typeof Notification !== 'undefined' && Notification.permission === 'denied')
    stateText.textContent = "Notifications are blocked for this site in your browser's settings.";
  else {
    stateText.textContent = mine
      ? 'This browser gets your notifications.'
      : 'This browser does not get your notifications.';
    (mine ? unsubscribe : subscribe).hidden = false;
  }
  for (const subscription of state.push.subscriptions) {
    const item = document.createElement('li');
    const added = new Date(subscription.createdAt).toLocaleDateString();
    const text = document.createElement('span');
    text.textContent = `${subscription.id === mine?.id ? 'This browser' : 'A browser'}, added ${added}`;
    const host = document.createElement('span');
    host.className = 'detail';
    host.textContent = new URL(subscription.endpoint).host;
    text.append(host);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${text.firstChild.textContent}`);
    remove.addEventListener('click', () => removeBrowser(subscription.id, subscription.id === mine?.id));
    item.append(text, remove);
    list.append(item);
  }
}

async function subscribeBrowser() {
  const button = $('push-subscribe');
  button.disabled = true;
  say('Asking your browser for permission…');
  try {
    const registration = await navigator.serviceWorker.register('/preferences/sw.js', {
      scope: '/preferences/',
    });
    await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: fromBase64Url(state.push.vapidPublicKey),
    });
    await api('/push-subscriptions', { method: 'POST', body: subscription.toJSON() });
    state = await api('/state');
    refresh();
    say('This browser now gets your notifications.');
  } catch (error) {
    if (error instanceof ApiError) say(explain(error), 'error');
    else if (error?.name === 'NotAllowedError')
      say('Notifications were not allowed in this browser.', 'error');
    else say(`This browser could not subscribe: ${error?.message ?? error}.`, 'error');
  }
  button.disabled = false;
  await renderPush();
}

async function removeBrowser(id, isThisBrowser) {
  try {
    await api(`/push-subscriptions/${id}`, { method: 'DELETE' });
    if (isThisBrowser) await (await browserSubscription())?.unsubscribe();
    state = await api('/state');
    refresh();
    say(isThisBrowser ? 'This browser no longer gets your notifications.' : 'The browser was removed.');
  } catch (error) {
    say(explain(error), 'error');
  }
  await renderPush();
  $('push-title').focus();
}

async function stopThisBrowser() {
  const current = await browserSubscription();
  const mine = current && state.push.subscriptions.find((s) => s.endpoint === current.endpoint);
  if (mine) await removeBrowser(mine.id, true);
}

function describeTest(notification) {
  const parts = notification.deliveries.map((d) => {
    const why = ['skipped', 'failed', 'undelivered'].includes(d.status)
      ? ` (${d.lastError ?? 'no reason given'})`
      : '';
    return `${labelOf(d.channel)}: ${d.status}${why}`;
  });
  if (notification.status === 'deferred')
    return 'Your quiet hours are on now: the test waits until they end.';
  if (parts.length === 0) return `The test was ${notification.status}: no channel could take it.`;
  return `Test ${notification.status.replace('_', ' ')}. ${parts.join('. ')}.`;
}

async function sendTest() {
  const button = $('send-test');
  const result = $('test-result');
  button.disabled = true;
  result.className = 'result';
  result.textContent = 'Sending a test…';
  try {
    const { id } = await api('/test', { method: 'POST' });
    let notification;
    for (let i = 0; i < 30; i++) {
      notification = await api(`/notifications/${id}`);
      if (FINAL.includes(notification.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    result.className = `result ${notification.status === 'failed' ? 'error' : 'ok'}`;
    result.textContent = FINAL.includes(notification.status)
      ? describeTest(notification)
      : 'The test is still on its way.';
  } catch (error) {
    result.className = 'result error';
    result.textContent =
      error.status === 429
        ? `You sent several tests just now. Try again in ${error.retryAfter ?? 60} seconds.`
        : explain(error).replace(/^Not saved: /, 'Not sent: ');
  }
  button.disabled = false;
}

async function load() {
  try {
    state = await api('/state');
  } catch (error) {
    say(explain(error), 'error');
    return;
  }
  buildChannels();
  buildCategories();
  refresh();
  buildQuietHours();
  await renderPush();
  const expires = $('expires');
  expires.dateTime = state.expiresAt;
  expires.textContent = new Date(state.expiresAt).toLocaleString();
  for (const section of document.querySelectorAll('[data-when-loaded]')) section.hidden = false;
  $('push-title').tabIndex = -1;
}

$('quiet-on').addEventListener('change', (event) => {
  $('quiet-times').disabled = !event.target.checked;
});
$('quiet-form').addEventListener('submit', saveQuietHours);
$('push-subscribe').addEventListener('click', subscribeBrowser);
$('push-unsubscribe').addEventListener('click', stopThisBrowser);
$('send-test').addEventListener('click', sendTest);
load();
