import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../platform/logger.js';
import type { ApiKeyScope } from '../domain/api-keys.js';
import { routePattern, trackRoutePattern } from '../platform/metrics.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Request id: from X-Request-Id when sane, else generated; also put on the workflow's memo. */
      id: string;
      /** The API key that authenticated the request (its name, never the key) and what it may do. */
      caller?: { keyId: string; name: string; scopes?: readonly ApiKeyScope[] };
    }
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Assigns a request id and logs one line per request (method, route pattern or `unmatched`, status,
 * duration). Never the path or URL: paths carry secret tokens (/preferences/<token>, /codec/<token>/...).
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.header('x-request-id');
    req.id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    trackRoutePattern(req);
    // 'close', not 'finish': a response the client walked away from (an event stream) is logged too.
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId: req.id,
          method: req.method,
          route: routePattern(req),
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
          caller: req.caller?.name,
        },
        'request',
      );
    });
    next();
  };
}
