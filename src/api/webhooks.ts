// Delivery-status webhooks: an API key registers callback URLs, and hears about its own notifications.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import type { OutboundPolicy } from '../platform/outbound.js';
import { newWebhookSecret } from '../domain/webhook-signature.js';
import { WEBHOOK_EVENT_TYPES } from '../workflows/webhooks.js';
import { HttpProblem, problems } from './problem.js';
import { responseSchemas } from '../domain/views.js';
import { checkOutboundUrl, parse } from './validate.js';

/** Endpoints one API key may have: enough for staging and production receivers, not a fan-out service. */
const MAX_ENDPOINTS_PER_KEY = 20;

export const createWebhookSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http or https URL' })
    .max(2048, { message: 'must be at most 2048 characters' }),
  /** Events to receive; empty or absent means all of them. */
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).max(WEBHOOK_EVENT_TYPES.length).optional(),
  description: z.string().trim().max(200).optional(),
});

export const webhookIdSchema = z.uuid({ message: 'must be a webhook id (UUID)' });

const eventType = z.enum(WEBHOOK_EVENT_TYPES);

export const webhookResponse = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(eventType),
    description: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .register(responseSchemas, { id: 'Webhook' });

export const createdWebhookResponse = webhookResponse
  .extend({
    secret: z.string().describe('Signs every event (Standard Webhooks, HMAC-SHA256); shown only here'),
  })
  .register(responseSchemas, { id: 'CreatedWebhook' });

export const webhookListResponse = z
  .object({ items: z.array(webhookResponse) })
  .register(responseSchemas, { id: 'WebhookList' });

export const webhookDetailResponse = webhookResponse
  .extend({
    recentDeliveries: z.array(
      z.object({
        eventId: z.string(),
        type: eventType,
        notificationId: z.uuid().nullable(),
        status: z.enum(['pending', 'retrying', 'delivered', 'failed']),
        attempts: z.int(),
        responseStatus: z.int().nullable(),
        lastError: z.string().nullable(),
        createdAt: z.iso.datetime(),
        deliveredAt: z.iso.datetime().nullable(),
      }),
    ),
  })
  .register(responseSchemas, { id: 'WebhookDetail' });

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  createdAt: Date;
}

const view = (e: EndpointRow): z.infer<typeof webhookResponse> => ({
  id: e.id,
  url: e.url,
  events: e.events.length > 0 ? (e.events as z.infer<typeof eventType>[]) : [...WEBHOOK_EVENT_TYPES],
  description: e.description,
  createdAt: e.createdAt.toISOString(),
});

/**
 * The caller's key owns its endpoints: another key's are not found, not forbidden. An admin key reads and
 * removes any key's endpoint by id; listing and registering stay its own.
 */
const ownerOf = (req: Request): string => {
  if (!req.caller) throw new HttpProblem(401, 'unauthorized', 'Unauthorized');
  return req.caller.keyId;
};

async function findOwned(db: Db, req: Request, id: string) {
  const owner = ownerOf(req);
  const anyOwner = req.caller?.scopes?.includes('admin') ?? false;
  const endpoint = await db.webhookEndpoint.findFirst({
    where: { id, deletedAt: null, ...(anyOwner ? {} : { owner }) },
  });
  if (!endpoint) throw problems.notFound(`Webhook ${id}`);
  return endpoint;
}

/** `/v1/webhooks`: register (the signing secret is shown once), list, read with recent deliveries, remove. */
export function webhookRoutes(db: Db, outbound: OutboundPolicy): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const owner = ownerOf(req);
    const input = parse(createWebhookSchema, req.body);
    checkOutboundUrl(outbound, input.url, 'url');
    const count = await db.webhookEndpoint.count({ where: { owner, deletedAt: null } });
    if (count >= MAX_ENDPOINTS_PER_KEY)
      throw problems.conflict(
        'too-many-webhooks',
        `An API key may register at most ${MAX_ENDPOINTS_PER_KEY} webhooks; remove one first`,
      );
    const secret = newWebhookSecret();
    const endpoint = await db.webhookEndpoint.create({
      data: {
        owner,
        url: input.url,
        secret,
        events: [...new Set(input.events ?? [])],
        description: input.description ?? null,
      },
    });
    res
      .status(201)
      .location(`/v1/webhooks/${endpoint.id}`)
      .json({ ...view(endpoint), secret });
  });

  router.get('/', async (req, res) => {
    const endpoints = await db.webhookEndpoint.findMany({
      where: { owner: ownerOf(req), deletedAt: null },
      orderBy: { createdAt: 'asc' },
    });
    res.json({ items: endpoints.map(view) });
  });

  router.get('/:id', async (req, res) => {
    const endpoint = await findOwned(db, req, parse(webhookIdSchema, req.params.id, 'id'));
    const deliveries = await db.webhookDelivery.findMany({
      where: { endpointId: endpoint.id },
      orderBy: { createdAt: 'desc' },
      take: 20,
    });
    res.json({
      ...view(endpoint),
      recentDeliveries: deliveries.map((d) => ({
        eventId: d.eventId,
        type: d.eventType as z.infer<typeof eventType>,
        notificationId: d.notificationId,
        status: d.status,
        attempts: d.attempts,
        responseStatus: d.responseStatus,
        lastError: d.lastError,
        createdAt: d.createdAt.toISOString(),
        deliveredAt: d.deliveredAt?.toISOString() ?? null,
      })),
    });
  });

  router.delete('/:id', async (req, res) => {
    const endpoint = await findOwned(db, req, parse(webhookIdSchema, req.params.id, 'id'));
    // Kept, marked deleted: its delivery records stay for audit, and events in flight stop at once.
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { deletedAt: new Date() } });
    res.status(204).end();
  });

  return router;
}
