import type { Db } from '../store/db.js';
import { NotFoundError } from './errors.js';

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

/** Creates or replaces a template's text for one locale; true when it was created. */
export async function putTemplate(
  db: Db,
  key: string,
  locale: string,
  content: { title: string; body: string },
): Promise<{ created: boolean; template: TemplateResponse }> {
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
