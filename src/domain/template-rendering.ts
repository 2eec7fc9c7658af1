import type { Db } from '../store/db.js';
import { PermanentChannelError } from '../activities/channels/channel.js';

/**
 * A stored template was asked for but has no text in the user's locale nor the default one: permanent,
 * so every channel's classify() treats it as it treats a missing address.
 */
export class MissingTemplateError extends PermanentChannelError {
  override name = 'MissingTemplateError';
}

const VARIABLE = /\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

function lookup(data: Record<string, unknown>, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Fills `{{variables}}` from data; a missing one renders empty. Output is plain text: channels escape it. */
export function renderTemplate(text: string, data: Record<string, unknown>): string {
  return text.replace(VARIABLE, (_, path: string) => {
    const value = lookup(data, path);
    if (value === undefined || value === null) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

/** Locales to try for a user, most specific first: pt-BR, pt, then the deployment's default. */
export function localeChain(locale: string, defaultLocale: string): string[] {
  const chain = [locale];
  const language = locale.split('-')[0]!;
  if (language !== locale) chain.push(language);
  chain.push(defaultLocale);
  return [...new Set(chain)];
}

export interface Content {
  title: string;
  body: string;
}

/** The content of a notification for a user: its direct title/body, or its template in their locale. */
export async function resolveContent(
  db: Db,
  notification: { title: string | null; body: string | null; template: string | null; data: unknown },
  locale: string,
  defaultLocale: string,
): Promise<Content> {
  // Direct content is sent as written: braces in it are the caller's text, not variables.
  if (!notification.template) return { title: notification.title ?? '', body: notification.body ?? '' };
  const data = (notification.data ?? {}) as Record<string, unknown>;
  const chain = localeChain(locale, defaultLocale);
  const found = await db.template.findMany({ where: { key: notification.template, locale: { in: chain } } });
  const template = chain.map((l) => found.find((t) => t.locale === l)).find(Boolean);
  if (!template) {
    throw new MissingTemplateError(`template ${notification.template} has no text for ${chain.join(', ')}`);
  }
  return { title: renderTemplate(template.title, data), body: renderTemplate(template.body, data) };
}
