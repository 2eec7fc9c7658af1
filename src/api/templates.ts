// Templates over HTTP: /v1/templates/:key/:locale (put and delete one locale) and /v1/templates/:key (all
// its locales).
import { Router, type RequestHandler } from 'express';
import type { Db } from '../store/db.js';
import { localeSchema, putTemplateSchema, templateKeySchema } from '../domain/schemas.js';
import { deleteTemplate, getTemplate, putTemplate } from '../domain/templates.js';
import { parse } from './validate.js';

/** Full paths on a router mounted on /v1 without a mount path; templates are the `manage` scope's. */
export function templateRoutes(db: Db, manage: RequestHandler): Router {
  const router = Router();
  router.put('/templates/:key/:locale', manage, async (req, res) => {
    const key = parse(templateKeySchema, req.params.key, 'key');
    const locale = parse(localeSchema, req.params.locale, 'locale');
    const { created, template } = await putTemplate(db, key, locale, parse(putTemplateSchema, req.body));
    res.status(created ? 201 : 200).json(template);
  });
  router.get('/templates/:key', manage, async (req, res) => {
    res.json(await getTemplate(db, parse(templateKeySchema, req.params.key, 'key')));
  });
  router.delete('/templates/:key/:locale', manage, async (req, res) => {
    await deleteTemplate(
      db,
      parse(templateKeySchema, req.params.key, 'key'),
      parse(localeSchema, req.params.locale, 'locale'),
    );
    res.status(204).end();
  });
  return router;
}
