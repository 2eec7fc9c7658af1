// OpenAPI paths of users: contacts, preferences, push subscriptions and devices, and the links users get.
import { header, jsonResponse, link, noContent, pathParam, v1 } from './openapi-parts.js';
import { linksRevokedResponse, preferencesLinkResponse } from './preference-center.js';
import {
  preferencesResponse,
  pushDeviceResponse,
  pushSubscriptionResponse,
  userResponse,
  vapidKeyResponse,
} from '../domain/views.js';
import { telegramLinkResponse } from './telegram.js';
import {
  createUserSchema,
  deviceIdSchema,
  preferencesSchema,
  pushDeviceSchema,
  pushSubscriptionSchema,
  subscriptionIdSchema,
  updateUserSchema,
  userIdParamSchema,
} from '../domain/schemas.js';

const userIdParam = pathParam('id', userIdParamSchema, "Herald's user id or the caller's externalId");

/** What a created user leads to (also what tools such as schemathesis chain requests by). */
const userLinks = {
  GetUser: link('getUser', { 'path.id': '$response.body#/id' }),
  UpdateUser: link('updateUser', { 'path.id': '$response.body#/id' }),
  DeleteUser: link('deleteUser', { 'path.id': '$response.body#/id' }),
  GetPreferences: link('getPreferences', { 'path.id': '$response.body#/id' }),
  PutPreferences: link('putPreferences', { 'path.id': '$response.body#/id' }),
  AddPushSubscription: link('addPushSubscription', { 'path.id': '$response.body#/id' }),
  AddPushDevice: link('addPushDevice', { 'path.id': '$response.body#/id' }),
  ListNotifications: link('listNotifications', { 'query.userId': '$response.body#/id' }),
  SendNotification: link('sendNotification', {}, { userId: '$response.body#/id' }),
};
const subscriptionLinks = {
  RemovePushSubscription: link('removePushSubscription', {
    'path.id': '$request.path.id',
    'path.subscriptionId': '$response.body#/id',
  }),
};

const deviceLinks = {
  RemovePushDevice: link('removePushDevice', {
    'path.id': '$request.path.id',
    'path.deviceId': '$response.body#/id',
  }),
};

export const userPaths = {
  '/v1/users': {
    post: v1({
      operationId: 'createUser',
      summary: 'Create a user',
      body: createUserSchema,
      responses: {
        '201': jsonResponse('Created', userResponse, {
          headers: { Location: header('Location') },
          links: userLinks,
        }),
      },
      errors: [409],
    }),
  },
  '/v1/users/{id}': {
    get: v1({
      operationId: 'getUser',
      summary: 'Read a user (by id or externalId)',
      parameters: [userIdParam],
      responses: { '200': jsonResponse('The user', userResponse) },
      errors: [404, 422],
    }),
    patch: v1({
      operationId: 'updateUser',
      summary: 'Change a user; null clears a contact',
      parameters: [userIdParam],
      body: updateUserSchema,
      responses: { '200': jsonResponse('The user', userResponse) },
      errors: [404, 409],
    }),
    delete: v1({
      operationId: 'deleteUser',
      summary: 'Delete a user with their contacts, preferences and history; open notifications are cancelled',
      parameters: [userIdParam],
      responses: { '204': noContent('Deleted') },
      errors: [404, 422],
    }),
  },
  '/v1/users/{id}/preferences': {
    get: v1({
      operationId: 'getPreferences',
      summary: "A user's opt-in/out rules, quiet hours and channel order",
      parameters: [userIdParam],
      responses: { '200': jsonResponse('The preferences', preferencesResponse) },
      errors: [404, 422],
    }),
    put: v1({
      operationId: 'putPreferences',
      summary: 'Replace the rules (most specific category/channel wins, * matches any) and quiet hours',
      parameters: [userIdParam],
      body: preferencesSchema,
      responses: { '200': jsonResponse('The preferences', preferencesResponse) },
      errors: [404],
    }),
  },
  '/v1/users/{id}/push-subscriptions': {
    post: v1({
      operationId: 'addPushSubscription',
      summary: "Store a browser's PushSubscription (JSON.stringify of it)",
      parameters: [userIdParam],
      body: pushSubscriptionSchema,
      responses: {
        '201': jsonResponse('Stored', pushSubscriptionResponse, { links: subscriptionLinks }),
        '200': jsonResponse('Already known: reactivated, and moved to this user', pushSubscriptionResponse, {
          links: subscriptionLinks,
        }),
      },
      errors: [404],
    }),
  },
  '/v1/users/{id}/push-devices': {
    post: v1({
      operationId: 'addPushDevice',
      summary:
        "Register a phone app's FCM registration token or APNs device token; at most 10 stay active, the oldest retired",
      parameters: [userIdParam],
      body: pushDeviceSchema,
      responses: {
        '201': jsonResponse('Registered', pushDeviceResponse, { links: deviceLinks }),
        '200': jsonResponse('Already known: reactivated, and moved to this user', pushDeviceResponse, {
          links: deviceLinks,
        }),
      },
      errors: [404],
    }),
  },
  '/v1/users/{id}/push-devices/{deviceId}': {
    delete: v1({
      operationId: 'removePushDevice',
      summary: 'Remove a registered phone',
      parameters: [userIdParam, pathParam('deviceId', deviceIdSchema)],
      responses: { '204': noContent('Removed') },
      errors: [404, 422],
    }),
  },
  '/v1/users/{id}/telegram-link': {
    post: v1({
      operationId: 'createTelegramLink',
      summary:
        'A single-use t.me deep link (TELEGRAM_LINK_TTL) that links the Telegram chat opening it to the user',
      parameters: [userIdParam],
      responses: { '201': jsonResponse('The link and its code', telegramLinkResponse) },
      errors: [404, 422, 503],
    }),
  },
  '/v1/users/{id}/preferences-link': {
    post: v1({
      operationId: 'createPreferencesLink',
      summary:
        "A signed link to the user's preference page, valid for PREFERENCES_LINK_TTL (404 without PREFERENCES_SECRET)",
      parameters: [userIdParam],
      responses: { '201': jsonResponse('The link', preferencesLinkResponse) },
      errors: [404, 422],
    }),
  },
  '/v1/users/{id}/links/revoke': {
    post: v1({
      operationId: 'revokeUserLinks',
      summary:
        'Revoke every preference-page and unsubscribe link the user holds, without changing PREFERENCES_SECRET; links issued afterwards work',
      parameters: [userIdParam],
      responses: { '200': jsonResponse('The link version new links carry', linksRevokedResponse) },
      errors: [404, 422],
    }),
  },
  '/v1/users/{id}/push-subscriptions/{subscriptionId}': {
    delete: v1({
      operationId: 'removePushSubscription',
      summary: 'Remove a push subscription',
      parameters: [userIdParam, pathParam('subscriptionId', subscriptionIdSchema)],
      responses: { '204': noContent('Removed') },
      errors: [404, 422],
    }),
  },
  '/v1/push/vapid-public-key': {
    get: v1({
      operationId: 'getVapidPublicKey',
      summary: 'The VAPID public key a browser subscribes with',
      responses: { '200': jsonResponse('The key', vapidKeyResponse) },
      errors: [404],
      anyScope: true,
    }),
  },
};
