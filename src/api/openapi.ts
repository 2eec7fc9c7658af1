import {
  ANY_HEADERS,
  HEADERS,
  problemComponents,
  schemaComponents,
  unauthenticated,
} from './openapi-parts.js';
import { codecOpenApiPaths } from './codec.js';
import { preferenceCenterOpenApiPaths } from './preference-center-docs.js';
import { inboxOpenApiPaths } from './inbox/openapi.js';
import { healthResponse, readinessResponse } from '../domain/views.js';
import { notificationPaths } from './openapi-notifications.js';
import { resourcePaths } from './openapi-resources.js';
import { userPaths } from './openapi-users.js';
import { twilioOpenApiPaths } from './twilio.js';

/** The OpenAPI 3.1 document, generated from the schemas that validate requests and shape responses. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '0.1.0',
      description:
        'Multi-channel notifications, each a durable Temporal workflow. No string may contain NUL ' +
        '(U+0000) or an unpaired surrogate: PostgreSQL cannot store them, and they are refused with 422. ' +
        'So is an object key named `__proto__`.',
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key with scopes: `send` sends notifications and reads, cancels and retries its own ' +
            "(another key's are 404) and manages its own webhooks; `manage` handles users, preferences, " +
            'push subscriptions, templates and links and reads every notification; `admin` (and every ' +
            'key in API_KEYS) does everything. A key without the scope gets 403 and nothing changes.',
        },
        codecToken: { type: 'http', scheme: 'bearer', description: 'CODEC_AUTH_TOKEN' },
        preferencesToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The token of a preference page link (POST /v1/users/{id}/preferences-link)',
        },
        inboxToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "An inbox token (POST /v1/users/{id}/inbox-token): one user's inbox, from that user's browser",
        },
      },
      schemas: schemaComponents(),
      responses: problemComponents(),
      headers: HEADERS,
    },
    security: [{ apiKey: [] }],
    paths: {
      ...userPaths,
      ...notificationPaths,
      ...resourcePaths,
      ...codecOpenApiPaths(),
      ...preferenceCenterOpenApiPaths(),
      ...twilioOpenApiPaths(),
      ...inboxOpenApiPaths(),
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          security: [],
          responses: { '200': unauthenticated('Up', healthResponse) },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: database and Temporal reachable',
          security: [],
          responses: {
            '200': unauthenticated('Ready', readinessResponse),
            '503': unauthenticated('Not ready: which dependency is unreachable', readinessResponse),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApiDocument',
          summary: 'This document',
          security: [],
          responses: {
            '200': {
              description: 'OpenAPI 3.1',
              headers: ANY_HEADERS,
              content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } },
            },
          },
        },
      },
      '/docs': {
        get: {
          operationId: 'docs',
          summary: 'This document, browsable',
          security: [],
          responses: {
            '200': {
              description: 'An HTML page that renders /openapi.json',
              headers: ANY_HEADERS,
              content: { 'text/html': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}

/** Browsable docs from local assets only: a small page that renders /openapi.json. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{background:#f4f4f4;border-radius:4px}pre{padding:.75rem;overflow:auto;font-size:13px}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}</style>
</head><body><h1>Herald API</h1><p>Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors are
<code>application/problem+json</code>. The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('ops'); root.textContent = '';
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const el = document.createElement('section'); el.className = 'op';
    const h = document.createElement('h2'); const m = document.createElement('span'); m.className = 'm';
    m.textContent = method; h.append(m, path); el.append(h);
    const p = document.createElement('p'); p.textContent = op.summary || ''; el.append(p);
    const schema = op.requestBody && Object.values(op.requestBody.content)[0].schema;
    if (schema) { const pre = document.createElement('pre'); pre.textContent = JSON.stringify(schema, null, 2); el.append(pre); }
    const codes = document.createElement('p'); codes.textContent = 'Responses: ' + Object.keys(op.responses).join(', '); el.append(codes);
    root.append(el);
  }
});
</script></body></html>`;
