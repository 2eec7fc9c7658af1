// CORS for the routes browsers on other origins call: the Temporal UI's codec server and the in-app
// inbox's feed. Only the listed origins get Access-Control-Allow-* headers; any other is answered as
// usual but its page cannot read the answer.
import type { RequestHandler } from 'express';

export interface CorsPolicy {
  origins: readonly string[];
  methods: readonly string[];
  /** Request headers a page may send (Authorization makes every call a preflighted one). */
  headers: readonly string[];
  /** Whether the page's cookies and credentials may come along. */
  credentials?: boolean;
}

export function cors(policy: CorsPolicy): RequestHandler {
  const allowed = new Set(policy.origins);
  const methods = [...policy.methods, 'OPTIONS'].join(', ');
  const headers = policy.headers.join(', ');
  return (req, res, next) => {
    const origin = req.header('origin');
    res.append('Vary', 'Origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      if (policy.credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', methods);
        res.setHeader('Access-Control-Allow-Headers', headers);
        res.setHeader('Access-Control-Max-Age', '600');
      }
    }
    next();
  };
}

/** The answer to a preflight (OPTIONS): the headers cors() set, and nothing else. */
export const preflight: RequestHandler = (_req, res) => {
  res.status(204).end();
};
