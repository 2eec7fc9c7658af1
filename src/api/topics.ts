// Audiences over HTTP: topics and their subscribers (routes and their OpenAPI paths).
import { Router, type RequestHandler } from 'express';
import type { Db } from '../store/db.js';
import { addSubscribers, getTopic, putTopic, removeSubscriber, userTopics } from '../domain/topics.js';
import {
  putTopicSchema,
  subscribeResponse,
  subscribeSchema,
  topicKeySchema,
  topicResponse,
  userTopicsResponse,
  type SubscribeResponse,
} from '../domain/topic-views.js';
import { userIdParamSchema } from '../domain/schemas.js';
import { PROBLEM_BASE } from './problem.js';
import { jsonResponse, noContent, pathParam, v1 } from './openapi-parts.js';
import { parse } from './validate.js';

/** /v1/topics/...: managing audiences is the `manage` scope's, as users and preferences are. */
export function topicRoutes(db: Db, manage: RequestHandler): Router {
  const router = Router();
  router.put('/topics/:key', manage, async (req, res) => {
    const key = parse(topicKeySchema, req.params.key, 'key');
    const { created, topic } = await putTopic(db, key, parse(putTopicSchema, req.body));
    res.status(created ? 201 : 200).json(topic);
  });
  router.get('/topics/:key', manage, async (req, res) => {
    res.json(await getTopic(db, parse(topicKeySchema, req.params.key, 'key')));
  });
  router.post('/topics/:key/subscribers', manage, async (req, res) => {
    const key = parse(topicKeySchema, req.params.key, 'key');
    const { users } = parse(subscribeSchema, req.body);
    const results: SubscribeResponse['results'] = (await addSubscribers(db, key, users)).map(
      ({ given, userId, created }) =>
        userId
          ? { user: given, userId, status: created ? 'subscribed' : 'already_subscribed' }
          : {
              user: given,
              error: {
                type: PROBLEM_BASE + 'unknown-user',
                title: 'Unknown user',
                detail: `No user has the id or externalId ${given}`,
              },
            },
    );
    const count = (status: string) => results.filter((r) => 'status' in r && r.status === status).length;
    res.json({
      subscribed: count('subscribed'),
      alreadySubscribed: count('already_subscribed'),
      failed: results.filter((r) => 'error' in r).length,
      results,
    } satisfies SubscribeResponse);
  });
  router.delete('/topics/:key/subscribers/:userId', manage, async (req, res) => {
    await removeSubscriber(
      db,
      parse(topicKeySchema, req.params.key, 'key'),
      parse(userIdParamSchema, req.params.userId, 'userId'),
    );
    res.status(204).end();
  });
  router.get('/users/:id/topics', manage, async (req, res) => {
    res.json(await userTopics(db, parse(userIdParamSchema, req.params.id, 'id')));
  });
  return router;
}

const keyParam = pathParam('key', topicKeySchema, 'Topic key');
const userParam = (name: string) => pathParam(name, userIdParamSchema, "User id or the caller's externalId");

export const topicOpenApiPaths = {
  '/v1/topics/{key}': {
    put: v1({
      operationId: 'putTopic',
      summary: 'Create a topic, or replace its name and description',
      parameters: [keyParam],
      body: putTopicSchema,
      responses: {
        '200': jsonResponse('Updated', topicResponse),
        '201': jsonResponse('Created', topicResponse),
      },
    }),
    get: v1({
      operationId: 'getTopic',
      summary: 'A topic with its subscriber count',
      parameters: [keyParam],
      responses: { '200': jsonResponse('The topic', topicResponse) },
      errors: [404, 422],
    }),
  },
  '/v1/topics/{key}/subscribers': {
    post: v1({
      operationId: 'addTopicSubscribers',
      summary: 'Subscribe up to 1,000 users (ids or externalIds); repeating it changes nothing',
      parameters: [keyParam],
      body: subscribeSchema,
      responses: { '200': jsonResponse('One result per user, subscribed or unknown', subscribeResponse) },
      errors: [404],
    }),
  },
  '/v1/topics/{key}/subscribers/{userId}': {
    delete: v1({
      operationId: 'removeTopicSubscriber',
      summary: 'Unsubscribe a user (broadcasts not yet at their page skip the user too)',
      parameters: [keyParam, userParam('userId')],
      responses: { '204': noContent('Not subscribed (any more)') },
      errors: [404, 422],
    }),
  },
  '/v1/users/{id}/topics': {
    get: v1({
      operationId: 'getUserTopics',
      summary: 'The topics a user subscribes to',
      parameters: [userParam('id')],
      responses: { '200': jsonResponse("The user's topics", userTopicsResponse) },
      errors: [404, 422],
    }),
  },
};
