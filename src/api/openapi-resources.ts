// OpenAPI paths of templates, delivery-status webhooks and Telegram's webhook.
import {
  ANY_HEADERS,
  header,
  jsonResponse,
  link,
  noContent,
  pathParam,
  unauthenticated,
  v1,
} from './openapi-parts.js';
import { templateLocalesResponse, templateResponse } from '../domain/views.js';
import { SECRET_HEADER, TELEGRAM_WEBHOOK_PATH, telegramWebhookAck } from './telegram.js';
import { localeSchema, putTemplateSchema, templateKeySchema } from '../domain/schemas.js';
import {
  createWebhookSchema,
  createdWebhookResponse,
  webhookDetailResponse,
  webhookIdSchema,
  webhookListResponse,
} from './webhooks.js';

const templateParams = [pathParam('key', templateKeySchema), pathParam('locale', localeSchema)];

/** Telegram's webhook is outside /v1: its errors carry no API-key or rate-limit headers. */
const webhookProblem = (description: string) => ({
  description,
  headers: ANY_HEADERS,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const webhookIdParam = pathParam('id', webhookIdSchema, 'Webhook id');
const webhookLinks = {
  GetWebhook: link('getWebhook', { 'path.id': '$response.body#/id' }),
  DeleteWebhook: link('deleteWebhook', { 'path.id': '$response.body#/id' }),
};
const templateLinks = {
  GetTemplate: link('getTemplate', { 'path.key': '$response.body#/key' }),
  DeleteTemplate: link('deleteTemplate', {
    'path.key': '$response.body#/key',
    'path.locale': '$response.body#/locale',
  }),
};

export const resourcePaths = {
  '/v1/templates/{key}': {
    get: v1({
      operationId: 'getTemplate',
      summary: 'A template in every locale',
      parameters: [pathParam('key', templateKeySchema)],
      responses: { '200': jsonResponse('The template', templateLocalesResponse) },
      errors: [404, 422],
    }),
  },
  '/v1/templates/{key}/{locale}': {
    put: v1({
      operationId: 'putTemplate',
      summary: 'Create or replace a template for one locale; {{variables}} come from the notification data',
      parameters: templateParams,
      body: putTemplateSchema,
      responses: {
        '200': jsonResponse('Replaced', templateResponse, { links: templateLinks }),
        '201': jsonResponse('Created', templateResponse, { links: templateLinks }),
      },
    }),
    delete: v1({
      operationId: 'deleteTemplate',
      summary: 'Remove a template for one locale',
      parameters: templateParams,
      responses: { '204': noContent('Removed') },
      errors: [404, 422],
    }),
  },
  '/v1/webhooks': {
    post: v1({
      operationId: 'createWebhook',
      summary:
        "Register a URL for signed delivery-status events about this API key's notifications (secret shown once)",
      body: createWebhookSchema,
      responses: {
        '201': jsonResponse('Registered', createdWebhookResponse, {
          headers: { Location: header('Location') },
          links: webhookLinks,
        }),
      },
      errors: [409],
    }),
    get: v1({
      operationId: 'listWebhooks',
      summary: "This API key's webhooks",
      responses: { '200': jsonResponse('The webhooks', webhookListResponse) },
    }),
  },
  '/v1/webhooks/{id}': {
    get: v1({
      operationId: 'getWebhook',
      summary: 'A webhook and its 20 most recent event deliveries',
      parameters: [webhookIdParam],
      responses: { '200': jsonResponse('The webhook', webhookDetailResponse) },
      errors: [404, 422],
    }),
    delete: v1({
      operationId: 'deleteWebhook',
      summary: 'Remove a webhook; events not yet delivered to it stop',
      parameters: [webhookIdParam],
      responses: { '204': noContent('Removed') },
      errors: [404, 422],
    }),
  },
  [TELEGRAM_WEBHOOK_PATH]: {
    post: {
      operationId: 'telegramWebhook',
      summary:
        'Telegram delivers bot updates here (webhook mode: TELEGRAM_WEBHOOK_URL); the bot process handles them',
      security: [],
      parameters: [
        {
          name: SECRET_HEADER,
          in: 'header',
          required: true,
          description: 'TELEGRAM_WEBHOOK_SECRET, as registered with setWebhook',
          schema: { type: 'string' },
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['update_id'],
              properties: {
                update_id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
              },
              description: 'A Telegram Update',
            },
          },
        },
      },
      responses: {
        '200': unauthenticated('Kept for the bot (a repeated update_id is a no-op)', telegramWebhookAck),
        '400': webhookProblem('The body is not a Telegram update'),
        '401': webhookProblem(`Wrong or missing ${SECRET_HEADER}`),
        '404': webhookProblem('Webhook mode is off (no TELEGRAM_WEBHOOK_SECRET)'),
        '413': webhookProblem('The body exceeds 256 KB'),
        '415': webhookProblem('The JSON is in a charset other than UTF-8, UTF-16 or UTF-32'),
      },
    },
  },
};
