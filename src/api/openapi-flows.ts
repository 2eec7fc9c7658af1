// OpenAPI paths of flows (docs/flows.md) and of cancelling by cancellation key.
import { jsonResponse, noContent, pathParam, v1 } from './openapi-parts.js';
import { cancelByKeySchema, flowKeySchema, putFlowSchema } from '../domain/flow-schema.js';
import { flowListResponse, flowResponse } from '../domain/flows.js';
import { cancelByKeyResponse } from './flows.js';

const keyParam = pathParam('key', flowKeySchema, 'Flow key');

export const flowPaths = {
  '/v1/flows': {
    get: v1({
      operationId: 'listFlows',
      summary: 'The flows (deleted ones are left out)',
      responses: { '200': jsonResponse('The flows', flowListResponse) },
    }),
  },
  '/v1/flows/{key}': {
    put: v1({
      operationId: 'putFlow',
      summary:
        'Store the steps as a new version (201); steps equal to the current version add none (200). ' +
        'Running notifications keep the version they started with',
      parameters: [keyParam],
      body: putFlowSchema,
      responses: {
        '200': jsonResponse('Unchanged: the current version', flowResponse),
        '201': jsonResponse('Stored as a new version', flowResponse),
      },
    }),
    get: v1({
      operationId: 'getFlow',
      summary: 'A flow with its current steps and every version',
      parameters: [keyParam],
      responses: { '200': jsonResponse('The flow', flowResponse) },
      errors: [404, 422],
    }),
    delete: v1({
      operationId: 'deleteFlow',
      summary: 'Delete a flow: new notifications cannot use it; running ones keep their version',
      parameters: [keyParam],
      responses: { '204': noContent('Deleted') },
      errors: [404, 422],
    }),
  },
  '/v1/notifications/cancel': {
    post: v1({
      operationId: 'cancelNotificationsByKey',
      summary:
        'Cancel every pending step of every notification carrying the cancellationKey, and withdraw ' +
        'them from digests not yet sent',
      body: cancelByKeySchema,
      responses: { '200': jsonResponse('How many it reached', cancelByKeyResponse) },
    }),
  },
};
