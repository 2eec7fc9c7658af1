// Flows (docs/flows.md): PUT stores a new version, GET lists and shows them with their versions, DELETE
// hides a flow from new notifications while running ones keep their version.
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { deleteFlow, getFlow, listFlowSummaries, putFlow } from '../domain/flows.js';
import { flowKeySchema, putFlowSchema } from '../domain/flow-schema.js';
import { responseSchemas } from '../domain/views.js';
import { parse } from './validate.js';

export const cancelByKeyResponse = z
  .object({
    cancellationKey: z.string(),
    cancelled: z.int().min(0).describe('Running notifications told to cancel'),
    withdrawnFromDigests: z.int().min(0).describe('Items withdrawn from digests not yet sent'),
  })
  .register(responseSchemas, { id: 'CancelByKeyResult' });

export function flowRoutes(db: Db): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.json(await listFlowSummaries(db));
  });
  router.put('/:key', async (req, res) => {
    const key = parse(flowKeySchema, req.params.key, 'key');
    const { created, flow } = await putFlow(db, key, parse(putFlowSchema, req.body));
    res.status(created ? 201 : 200).json(flow);
  });
  router.get('/:key', async (req, res) => {
    res.json(await getFlow(db, parse(flowKeySchema, req.params.key, 'key')));
  });
  router.delete('/:key', async (req, res) => {
    await deleteFlow(db, parse(flowKeySchema, req.params.key, 'key'));
    res.status(204).end();
  });
  return router;
}
