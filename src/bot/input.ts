// What a person types, made safe to read: the bot never trusts the shape, length or bytes of a message.

/** Telegram's own limit on a message; anything longer did not come from a Telegram client. */
export const MAX_MESSAGE_LENGTH = 4096;

// C0 and C1 control characters except tab and newline, zero-width and bidi overrides, and unpaired
// UTF-16 surrogates (which PostgreSQL's UTF-8 text refuses).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** NFC, without control characters or unpaired surrogates, line endings as \n, trimmed. */
export function cleanText(raw: string): string {
  return raw
    .slice(0, MAX_MESSAGE_LENGTH * 2)
    .replace(/\r\n?/g, '\n')
    .replace(LONE_SURROGATE, '')
    .normalize('NFC')
    .replace(CONTROL, '')
    .trim();
}

/** One line: whitespace runs (newlines included) become one space. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

export interface Command {
  /** Lower-case, without the slash or a @botname suffix. */
  name: string;
  /** Everything after the command, trimmed ("" when none). */
  args: string;
}

/** `/name`, `/name@bot`, `/name args`; undefined when the text is not a command at all. */
export function parseCommand(text: string): Command | undefined {
  if (!text.startsWith('/')) return undefined;
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/.exec(text);
  if (!match) return { name: '', args: '' };
  return { name: match[1]!.toLowerCase(), args: (match[2] ?? '').trim() };
}

/** The first validation message of a failed zod parse, for a reply. */
export const firstIssue = (error: { issues: { message: string }[] }): string =>
  error.issues[0]?.message ?? 'is not valid';

/** A quoted value for a reply: one line, and short enough to never make the reply too long. */
export function quote(value: string, max = 80): string {
  const line = oneLine(value);
  return `“${line.length > max ? line.slice(0, max - 1) + '…' : line}”`;
}
