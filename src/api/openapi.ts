import { z } from 'zod';
import {
  bulkNotificationSchema,
  cancelNotificationSchema,
  createNotificationSchema,
  createUserSchema,
  listNotificationsQuerySchema,
  preferencesSchema,
  pushSubscriptionSchema,
  putTemplateSchema,
  updateUserSchema,
} from './schemas.js';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

const problem = {
  description: 'An error, as application/problem+json',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        required: ['type', 'title', 'status'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
};
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [String(code), problem]));
const body = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: json(schema) } },
});
/** Query parameters from an object schema, one per property. */
function queryParams(schema: z.ZodType) {
  const { properties = {} } = json(schema) as { properties?: Record<string, unknown> };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    schema: property,
  }));
}
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const idParam = (description: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});

/** The OpenAPI 3.1 document, generated from the same schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '0.1.0',
      description: 'Multi-channel notifications, each a durable Temporal workflow.',
    },
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/users': {
        post: {
          summary: 'Create a user',
          requestBody: body(createUserSchema),
          responses: { '201': { description: 'Created' }, ...errors(400, 401, 409, 413, 415, 422) },
        },
      },
      '/v1/users/{id}': {
        get: {
          summary: 'Read a user (by id or externalId)',
          parameters: [idParam("Herald's user id or the caller's externalId")],
          responses: { '200': { description: 'The user' }, ...errors(401, 404) },
        },
        patch: {
          summary: 'Change a user; null clears a contact',
          parameters: [idParam("Herald's user id or the caller's externalId")],
          requestBody: body(updateUserSchema),
          responses: { '200': { description: 'The user' }, ...errors(400, 401, 404, 409, 413, 415, 422) },
        },
        delete: {
          summary:
            'Delete a user with their contacts, preferences and history; open notifications are cancelled',
          parameters: [idParam("Herald's user id or the caller's externalId")],
          responses: { '204': { description: 'Deleted' }, ...errors(401, 404) },
        },
      },
      '/v1/users/{id}/preferences': {
        get: {
          summary: "A user's opt-in/out rules, quiet hours and channel order",
          parameters: [idParam("Herald's user id or the caller's externalId")],
          responses: { '200': { description: 'The preferences' }, ...errors(401, 404) },
        },
        put: {
          summary: 'Replace the rules (most specific category/channel wins, * matches any) and quiet hours',
          parameters: [idParam("Herald's user id or the caller's externalId")],
          requestBody: body(preferencesSchema),
          responses: { '200': { description: 'The preferences' }, ...errors(400, 401, 404, 413, 415, 422) },
        },
      },
      '/v1/users/{id}/push-subscriptions': {
        post: {
          summary: "Store a browser's PushSubscription (JSON.stringify of it)",
          parameters: [idParam("Herald's user id or the caller's externalId")],
          requestBody: body(pushSubscriptionSchema),
          responses: {
            '201': { description: 'Stored' },
            '200': { description: 'Already known: reactivated' },
            ...errors(400, 401, 404, 413, 415, 422),
          },
        },
      },
      '/v1/users/{id}/push-subscriptions/{subscriptionId}': {
        delete: {
          summary: 'Remove a push subscription',
          parameters: [idParam("Herald's user id or the caller's externalId"), pathParam('subscriptionId')],
          responses: { '204': { description: 'Removed' }, ...errors(401, 404, 422) },
        },
      },
      '/v1/push/vapid-public-key': {
        get: {
          summary: 'The VAPID public key a browser subscribes with',
          responses: { '200': { description: '{ publicKey }' }, ...errors(401, 404) },
        },
      },
      '/v1/notifications': {
        get: {
          summary: 'Notifications newest first, filtered, a page at a time (pass nextCursor as cursor)',
          parameters: queryParams(listNotificationsQuerySchema),
          responses: { '200': { description: '{ items, nextCursor }' }, ...errors(401, 404, 422) },
        },
        post: {
          summary: 'Send a notification',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: body(createNotificationSchema),
          responses: {
            '202': { description: 'Accepted: a workflow was started' },
            ...errors(400, 401, 409, 413, 415, 422, 503),
          },
        },
      },
      '/v1/notifications/bulk': {
        post: {
          summary: 'One notification to up to 1,000 recipients; each is reported on its own',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: body(bulkNotificationSchema),
          responses: {
            '202': { description: '{ accepted, failed, results: one per recipient, with id or error }' },
            ...errors(400, 401, 413, 415, 422),
          },
        },
      },
      '/v1/notifications/{id}': {
        get: {
          summary: 'A notification with the state of each channel',
          parameters: [idParam('Notification id')],
          responses: { '200': { description: 'The notification' }, ...errors(401, 404, 422) },
        },
      },
      '/v1/notifications/{id}/cancel': {
        post: {
          summary: 'Cancel a notification that is scheduled, deferred, delivering or awaiting a retry',
          parameters: [idParam('Notification id')],
          requestBody: { ...body(cancelNotificationSchema), required: false },
          responses: {
            '200': { description: 'Cancelled; the workflow status' },
            ...errors(401, 404, 409, 422),
          },
        },
      },
      '/v1/notifications/{id}/retry': {
        post: {
          summary: 'Run the failed deliveries of a notification again',
          parameters: [idParam('Notification id')],
          responses: {
            '202': { description: 'Retrying; the workflow status' },
            ...errors(401, 404, 409, 422),
          },
        },
      },
      '/v1/templates/{key}': {
        get: {
          summary: 'A template in every locale',
          parameters: [pathParam('key')],
          responses: { '200': { description: 'The template' }, ...errors(401, 404, 422) },
        },
      },
      '/v1/templates/{key}/{locale}': {
        put: {
          summary:
            'Create or replace a template for one locale; {{variables}} come from the notification data',
          parameters: [pathParam('key'), pathParam('locale')],
          requestBody: body(putTemplateSchema),
          responses: {
            '200': { description: 'Replaced' },
            '201': { description: 'Created' },
            ...errors(400, 401, 413, 415, 422),
          },
        },
        delete: {
          summary: 'Remove a template for one locale',
          parameters: [pathParam('key'), pathParam('locale')],
          responses: { '204': { description: 'Removed' }, ...errors(401, 404, 422) },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Up' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: database and Temporal reachable',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
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
    const schema = op.requestBody && op.requestBody.content['application/json'].schema;
    if (schema) { const pre = document.createElement('pre'); pre.textContent = JSON.stringify(schema, null, 2); el.append(pre); }
    const codes = document.createElement('p'); codes.textContent = 'Responses: ' + Object.keys(op.responses).join(', '); el.append(codes);
    root.append(el);
  }
});
</script></body></html>`;
