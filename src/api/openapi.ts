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
import { topicOpenApiPaths } from './topics.js';
import { flowPaths } from './openapi-flows.js';
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
      ...topicOpenApiPaths,
      ...flowPaths,
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
              description: 'Swagger UI over /openapi.json, with an API key and "Try it out"',
              headers: ANY_HEADERS,
              content: { 'text/html': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
