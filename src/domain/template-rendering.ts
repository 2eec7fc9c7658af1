import type { Db } from '../store/db.js';
import { PermanentChannelError } from '../activities/channels/channel.js';
import { renderTemplateText } from './template-language.js';

/**
 * A stored template was asked for but has no text in the user's locale nor the default one: permanent,
 * so every channel's classify() treats it as it treats a missing address.
 */
export class MissingTemplateError extends PermanentChannelError {
  override name = 'MissingTemplateError';
}

/** Stored text that no longer renders (it was stored before Herald checked templates, or data broke it). */
export class TemplateRenderError extends PermanentChannelError {
  override name = 'TemplateRenderError';
}

/**
 * Fills a template (Handlebars: `{{variables}}`, `{{#each}}`, `{{#if}}`) from data; a missing value
 * renders empty. Output is plain text: channels escape it for their format.
 */
export function renderTemplate(text: string, data: Record<string, unknown>): string {
  try {
    return renderTemplateText(text, data);
  } catch (error) {
    throw new TemplateRenderError(`the template does not render: ${(error as Error).message}`);
  }
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
