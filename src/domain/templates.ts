import type { Db } from '../store/db.js';
import { InvalidInputError, NotFoundError, type FieldError } from './errors.js';
import { checkTemplate, TemplateSyntaxError } from './template-language.js';

import type { TemplateResponse } from './views.js';

const view = (t: {
  key: string;
  locale: string;
  title: string;
  body: string;
  updatedAt: Date;
}): TemplateResponse => ({
  key: t.key,
  locale: t.locale,
  title: t.title,
  body: t.body,
  updatedAt: t.updatedAt.toISOString(),
});

/** Each of title and body that does not compile, with the compiler's reason. */
function templateProblems(content: { title: string; body: string }): FieldError[] {
  const problems: FieldError[] = [];
  for (const field of ['title', 'body'] as const) {
    try {
      checkTemplate(content[field]);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      problems.push({ field, message: `does not compile: ${error.message}` });
    }
  }
  return problems;
}

/** Creates or replaces a template's text for one locale; true when it was created. Refuses text that does not compile. */
export async function putTemplate(
  db: Db,
  key: string,
  locale: string,
  content: { title: string; body: string },
): Promise<{ created: boolean; template: TemplateResponse }> {
  const problems = templateProblems(content);
  if (problems.length > 0) {
    throw new InvalidInputError(
      'validation-error',
      'The request is invalid',
      problems.map((p) => `${p.field} ${p.message}`).join('; '),
      problems,
    );
  }
  const existing = await db.template.findUnique({
    where: { key_locale: { key, locale } },
    select: { key: true },
  });
  const template = await db.template.upsert({
    where: { key_locale: { key, locale } },
    create: { key, locale, ...content },
    update: content,
  });
  return { created: !existing, template: view(template) };
}

export async function getTemplate(
  db: Db,
  key: string,
): Promise<{ key: string; locales: TemplateResponse[] }> {
  const rows = await db.template.findMany({ where: { key }, orderBy: { locale: 'asc' } });
  if (rows.length === 0) throw new NotFoundError(`Template ${key}`);
  return { key, locales: rows.map(view) };
}

export async function deleteTemplate(db: Db, key: string, locale: string): Promise<void> {
  const { count } = await db.template.deleteMany({ where: { key, locale } });
  if (count === 0) throw new NotFoundError(`Template ${key} in ${locale}`);
}

/** Refuses a notification, bulk or broadcast naming a template that is not stored (422 unknown-template). */
export async function requireKnownTemplate(db: Db, key: string | undefined): Promise<void> {
  if (!key || (await db.template.findFirst({ where: { key }, select: { key: true } }))) return;
  throw new InvalidInputError('unknown-template', 'Unknown template', `No template has the key ${key}`, [
    { field: 'template', message: 'no such template' },
  ]);
}
