// GET /docs: Swagger UI over /openapi.json, from the swagger-ui-dist package on this server (no CDN),
// with "Authorize" for an API key and "Try it out" against this same API.
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Response, type Router } from 'express';

const assetsDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Only what the page loads: the package also holds a demo page pointing at a remote document. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'];

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head><body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/herald-docs.js"></script>
</body></html>`;

// A file of its own rather than an inline script, so the page's policy can forbid inline scripts.
const INITIALIZER = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayRequestDuration: true,
  filter: true,
  // "Try it out" calls this API; the key typed into "Authorize" stays in this page only.
  persistAuthorization: false,
  validatorUrl: null,
});`;

/**
 * Everything from this server: scripts from files only; styles inline too, since Swagger UI sets style
 * attributes; try-it requests to this origin only.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page's own headers: set per route, so that no other answer of the API takes this policy. */
function withPolicy(res: Response): Response {
  return res.set({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' });
}

export function apiDocsRoutes(): Router {
  const router = express.Router();
  router.get('/docs', (_req, res) => {
    withPolicy(res).type('html').send(PAGE);
  });
  router.get('/docs/assets/herald-docs.js', (_req, res) => {
    withPolicy(res).type('text/javascript').send(INITIALIZER);
  });
  for (const file of ASSETS)
    router.get(`/docs/assets/${file}`, (_req, res, next) => {
      withPolicy(res);
      // Versioned with the package: a day in caches is safe, and an upgrade shows within one.
      res.sendFile(file, { root: assetsDir, maxAge: '1d' }, (error) => error && next(error));
    });
  return router;
}
