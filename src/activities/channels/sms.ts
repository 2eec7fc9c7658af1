import type { Logger } from '../../lib/logger.js';
import {
  PermanentChannelError,
  type ChannelDefinition,
  type ChannelProvider,
  type FailureClass,
  type OutgoingMessage,
} from './channel.js';

// ---------------------------------------------------------------------------------------------------
// Text: GSM-7 or UCS-2, how many parts it costs, and cutting it to a number of parts.

export type SmsEncoding = 'GSM-7' | 'UCS-2';

// GSM 03.38 basic set, one septet each. ESC (0x1B) is left out: it only introduces the extension table.
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§abcdefghijklmnopqrstuvwxyzäöñüà¿',
);
// GSM 03.38 extension table: escape plus code, two septets each.
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

// A concatenated message spends 6 octets of each part on the UDH (7 septets, or 3 UCS-2 units).
const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

export function smsEncoding(text: string): SmsEncoding {
  for (const char of text) if (!GSM_BASIC.has(char) && !GSM_EXTENSION.has(char)) return 'UCS-2';
  return 'GSM-7';
}

/** Septets (GSM-7) or UTF-16 units (UCS-2) per code point. */
const costs = (text: string, encoding: SmsEncoding): number[] =>
  Array.from(text, (char) => (encoding === 'GSM-7' ? (GSM_EXTENSION.has(char) ? 2 : 1) : char.length));

/** How many SMS parts the text is sent as (an empty text still costs one). */
export function countSegments(text: string): number {
  const encoding = smsEncoding(text);
  const { single, part } = LIMITS[encoding];
  const units = costs(text, encoding);
  if (units.reduce((sum, n) => sum + n, 0) <= single) return 1;
  // Gateways fill parts greedily and never split an escape pair or a surrogate pair across two.
  let parts = 1;
  let used = 0;
  for (const n of units) {
    if (used + n > part) {
      parts += 1;
      used = 0;
    }
    used += n;
  }
  return parts;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** How far back a cut may move to end on a word rather than inside one. */
const WORD_LOOKBACK = 20;

/**
 * The text unchanged when it fits in `maxSegments` parts; otherwise its longest start that fits with an
 * ellipsis, cut between graphemes (never inside a surrogate pair or an emoji sequence). The ellipsis is
 * "..." while the kept text is GSM-7, since "…" would turn the whole message into UCS-2.
 */
export function fitToSegments(text: string, maxSegments: number): string {
  if (!(maxSegments >= 1)) throw new RangeError(`maxSegments must be at least 1, not ${maxSegments}`);
  if (countSegments(text) <= maxSegments) return text;
  const pieces = Array.from(graphemes.segment(text), (s) => s.segment);
  const cut = (n: number): string => {
    const head = pieces.slice(0, n).join('').trimEnd();
    return head + (smsEncoding(head) === 'GSM-7' ? '...' : '…');
  };
  // The starts that fit run from 0 up, so bisection finds the longest: in one encoding the cost only
  // grows, and once an all-GSM-7 start is too long, any UCS-2 start past it is too (twice the parts).
  // Every grapheme costs at least one unit, which bounds the search.
  let low = 0;
  let high = Math.min(pieces.length, maxSegments * LIMITS['GSM-7'].single);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countSegments(cut(mid)) <= maxSegments) low = mid;
    else high = mid - 1;
  }
  if (low < pieces.length && !/\s/.test(pieces[low]!)) {
    for (let i = low - 1; i > 0 && i >= low - WORD_LOOKBACK; i--) {
      if (/\s/.test(pieces[i]!)) return cut(i);
    }
  }
  return cut(low);
}

// Typographic look-alikes of GSM-7 characters: one curly apostrophe would make the message UCS-2,
// which holds less than half as much per part.
const GSM_LOOKALIKES: [RegExp, string][] = [
  [/[‘’‚‛′]/g, "'"],
  [/[“”„‟″]/g, '"'],
  [/[‐‑‒–—―]/g, '-'],
  [/…/g, '...'],
];

/**
 * The title on the first line and the body below it, whitespace normalised, cut to `maxSegments`. A
 * line break costs one septet (": " costs two), reads as a heading on every handset, and avoids "Done!:"
 * when the title ends in punctuation.
 */
export function renderSms(message: Pick<OutgoingMessage, 'title' | 'body'>, maxSegments: number): string {
  const title = message.title.replace(/\s+/g, ' ').trim();
  const body = message.body
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n') // blank lines too: a paragraph break is not worth a septet
    .trim();
  let text = [title, body].filter(Boolean).join('\n');
  const plain = GSM_LOOKALIKES.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
  if (smsEncoding(plain) === 'GSM-7') text = plain;
  return fitToSegments(text, maxSegments);
}

// ---------------------------------------------------------------------------------------------------
// The `http` provider: POST JSON { to, text } with a bearer token; 2xx { id }.

export interface SmsHttpOptions {
  url: string;
  token?: string;
  maxSegments: number;
  /** One request including its response body; well inside the delivery activity's own timeout. */
  timeoutMs?: number;
  logger?: Logger;
}

/** E.164: a plus and 8 to 15 digits, no leading zero in the country code. */
const E164 = /^\+[1-9]\d{6,14}$/; // the API accepts the same: 7 to 15 digits (Niue has 7)
/** A gateway asking to wait longer than this is misbehaving; Temporal's backoff takes over after it. */
const MAX_RETRY_AFTER_MS = 3_600_000;
const DETAIL_LIMIT = 200;

/** A non-2xx answer from the SMS gateway; `body` is already cut short and free of phone numbers. */
export class SmsGatewayError extends Error {
  override name = 'SmsGatewayError';
  constructor(
    readonly status: number,
    readonly body: string,
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(`SMS gateway ${status}: ${detail}`);
  }
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else if (/[a-z]/i.test(trimmed)) ms = Date.parse(trimmed) - now;
  else return undefined;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** Gateways echo the destination in errors; reasons and logs must never carry it. */
function withoutPhoneNumbers(text: string, phone: string): string {
  return text
    .replaceAll(phone, '[phone]')
    .replaceAll(phone.slice(1), '[phone]')
    .replace(/\+\d{7,15}/g, '[phone]');
}

/** The gateway's own words: a JSON `message`/`error`/`detail`/`title`, else the body as text. */
function errorDetail(body: string, statusText: string): string {
  let detail = body;
  try {
    const json: unknown = JSON.parse(body);
    const fields = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    for (const key of ['message', 'error', 'detail', 'title', 'description']) {
      const value = fields[key];
      // `{"error": "..."}` and `{"error": {"message": "..."}}` are both common.
      const text = typeof value === 'string' ? value : (value as { message?: unknown } | null)?.message;
      if (typeof text === 'string' && text.trim()) {
        detail = text;
        break;
      }
    }
  } catch {
    // Not JSON: the text itself is the detail.
  }
  detail = detail.replace(/\s+/g, ' ').trim();
  if (detail.length > DETAIL_LIMIT) detail = detail.slice(0, DETAIL_LIMIT - 1) + '…';
  return detail || statusText || 'no details';
}

function providerMessageId(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  } catch {
    return undefined; // The gateway accepted the message; a missing id only costs the cross-reference.
  }
}

/** The first `code` (ECONNREFUSED, ECONNRESET, ...) down an error's cause chain. */
function systemCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return undefined;
}

/** 4xx describes the request and will not change; 408, 429, 5xx and the network may pass. */
export function classifySmsError(error: unknown): FailureClass {
  if (error instanceof PermanentChannelError) return { permanent: true, reason: error.message };
  if (error instanceof SmsGatewayError) {
    const { status, retryAfterMs } = error;
    if (status === 408 || status === 429 || status >= 500) {
      return retryAfterMs === undefined
        ? { permanent: false, reason: error.message }
        : { permanent: false, reason: error.message, retryAfterMs };
    }
    // Every message fails alike until an operator fixes the configuration and retries the deliveries.
    if (status === 401 || status === 403) {
      return { permanent: true, reason: `${error.message} (check SMS_HTTP_TOKEN)` };
    }
    if (status === 404 || status === 405) {
      return { permanent: true, reason: `${error.message} (check SMS_HTTP_URL)` };
    }
    return { permanent: true, reason: error.message };
  }
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e?.name === 'TimeoutError') return { permanent: false, reason: 'SMS gateway timed out' };
  // fetch reports network trouble as TypeError("fetch failed") with the socket error as its cause.
  const code = systemCode(error);
  if (code) return { permanent: false, reason: `SMS gateway unreachable: ${code}` };
  // A send cancelled by close() (worker shutting down) or anything unforeseen: another attempt may do.
  return { permanent: false, reason: typeof e?.message === 'string' ? e.message : String(error) };
}

export function createSmsChannel(options: SmsHttpOptions): ChannelProvider {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Aborts requests still in flight when the worker shuts down.
  const closing = new AbortController();

  return {
    channel: 'sms',
    async send(recipient, message) {
      const to = recipient.phone;
      if (!to) throw new PermanentChannelError('the user has no phone number');
      if (!E164.test(to)) throw new PermanentChannelError('invalid phone number');
      const text = renderSms(message, options.maxSegments);
      if (!text) throw new PermanentChannelError('the notification has neither title nor body');
      if (closing.signal.aborted) throw new Error('the SMS channel is closed');

      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...(options.token && { Authorization: `Bearer ${options.token}` }),
          // Stable per notification and channel: a retry after a lost answer is not a second SMS.
          'Idempotency-Key': `${message.notificationId}.sms`,
        },
        body: JSON.stringify({ to, text }),
        signal: AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]),
      });
      const body = withoutPhoneNumbers(await response.text(), to);
      if (!response.ok) {
        const retryAfterMs =
          response.status === 429 || response.status === 503
            ? parseRetryAfter(response.headers.get('retry-after'))
            : undefined;
        throw new SmsGatewayError(
          response.status,
          body.slice(0, 2000),
          errorDetail(body, response.statusText),
          retryAfterMs,
        );
      }
      const id = providerMessageId(body);
      options.logger?.debug(
        {
          notificationId: message.notificationId,
          encoding: smsEncoding(text),
          segments: countSegments(text),
          providerMessageId: id,
        },
        'SMS accepted by the gateway',
      );
      return { providerMessageId: id };
    },
    classify: classifySmsError,
    async close() {
      closing.abort(new Error('the SMS channel was closed during the send'));
    },
  };
}

export const smsChannel: ChannelDefinition = {
  channel: 'sms',
  hasAddress: (recipient) => Boolean(recipient.phone),
  isConfigured: (config) => config.sms.provider === 'http' && Boolean(config.sms.url),
  create: (config, context) =>
    createSmsChannel({
      url: config.sms.url!,
      token: config.sms.token,
      maxSegments: config.sms.maxSegments,
      logger: context.logger.child({ channel: 'sms' }),
    }),
};
