// 405 with Allow for a method a documented path does not take. The OpenAPI document is the one list of
// routes, so a route it forgot would show up here (and in the schemathesis run) rather than go unnoticed.
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.js';

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'head', 'patch', 'trace']);

interface DocumentedPath {
  match: RegExp;
  params: number;
  allow: string[];
}

function documentedPaths(spec: Record<string, unknown>): DocumentedPath[] {
  return (
    Object.entries(spec.paths as Record<string, Record<string, unknown>>)
      .map(([template, item]) => {
        const parts = template.split(/\{[^}]+\}/);
        const pattern = parts.map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+');
        const allow = Object.keys(item)
          .filter((key) => HTTP_METHODS.has(key))
          .map((method) => method.toUpperCase());
        if (allow.includes('GET') && !allow.includes('HEAD')) allow.push('HEAD');
        return { match: new RegExp(`^${pattern}/?$`), params: parts.length - 1, allow };
      })
      // The most specific path first: /v1/notifications/bulk is itself, not /v1/notifications/{id}.
      .sort((a, b) => a.params - b.params)
  );
}

/** A path whose escapes are not UTF-8 is the routes' to refuse (422), whatever the method. */
function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs before routing: a documented path asked with a method it does not list gets 405. A listed method
 * passes, even when this deployment turned its route off. A plain OPTIONS on a documented path is answered
 * here with the path's own methods: routing would answer with every route whose pattern matches, so
 * /v1/notifications/bulk would claim GET for /v1/notifications/:id's sake. A CORS preflight passes, for
 * the routes that take cross-origin calls to answer (cors.ts).
 */
export function methodNotAllowed(spec: Record<string, unknown>): RequestHandler {
  const paths = documentedPaths(spec);
  return (req, res, next) => {
    const documented = paths.find(({ match }) => match.test(req.path));
    if (req.method === 'OPTIONS') {
      if (!documented || req.header('access-control-request-method') || !decodes(req.path)) return next();
      res.setHeader('Allow', [...documented.allow, 'OPTIONS'].join(', '));
      return void res.status(204).end();
    }
    if (!documented || documented.allow.includes(req.method)) return next();
    const allow = documented.allow.join(', ');
    throw new HttpProblem(
      405,
      'method-not-allowed',
      'Method not allowed',
      `${req.method} is not allowed on ${req.path}; use ${allow}`,
      undefined,
      { Allow: allow },
    );
  };
}
