// SMS text, without I/O: GSM-7 or UCS-2, how many parts it costs, and cutting it to a number of parts.
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import type { OutgoingMessage } from '../channel.js';

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
export function renderSms(
  message: Pick<OutgoingMessage, 'title' | 'body' | 'acknowledge'>,
  maxSegments: number,
): string {
  const title = message.title.replace(/\s+/g, ' ').trim();
  const body = message.body
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n') // blank lines too: a paragraph break is not worth a septet
    .trim();
  let text = [title, body].filter(Boolean).join('\n');
  const plain = GSM_LOOKALIKES.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
  if (smsEncoding(plain) === 'GSM-7') text = plain;
  const ack = message.acknowledge?.url;
  return ack
    ? withLastLine(text, `${ACKNOWLEDGE_LABEL}: ${ack}`, maxSegments)
    : fitToSegments(text, maxSegments);
}

/**
 * The text, cut as far as needed, and a line that is never cut (the acknowledge link): the longest start
 * of the text that leaves the whole within `maxSegments`, or the line alone if nothing else fits.
 */
function withLastLine(text: string, line: string, maxSegments: number): string {
  for (let parts = maxSegments; parts >= 1; parts--) {
    const kept = fitToSegments(text, parts);
    const whole = kept ? `${kept}\n${line}` : line;
    if (countSegments(whole) <= maxSegments) return whole;
  }
  return line;
}
