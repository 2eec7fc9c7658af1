// Phones registered for push, under a user: POST /v1/users/:id/push-devices and DELETE …/:deviceId.
import type { RequestHandler, Router } from 'express';
import type { Db } from '../store/db.js';
import { addPushDevice, removePushDevice } from '../domain/push-targets.js';
import { deviceIdSchema, pushDeviceSchema, userIdParamSchema } from '../domain/schemas.js';
import { parse } from './validate.js';

/**
 * Adds the routes to the /v1 router, behind `scope`. Full paths, not a router mounted at
 * /users/:id/push-devices: a mount path's parameters would put the raw user id in the logged pattern.
 */
export function addPushDeviceRoutes(v1: Router, db: Db, scope: RequestHandler): void {
  v1.post('/users/:id/push-devices', scope, async (req, res) => {
    const userId = parse(userIdParamSchema, req.params.id, 'id');
    const { created, device } = await addPushDevice(db, userId, parse(pushDeviceSchema, req.body));
    res.status(created ? 201 : 200).json(device);
  });
  v1.delete('/users/:id/push-devices/:deviceId', scope, async (req, res) => {
    const userId = parse(userIdParamSchema, req.params.id, 'id');
    await removePushDevice(db, userId, parse(deviceIdSchema, req.params.deviceId, 'deviceId'));
    res.status(204).end();
  });
}
