// The in-app inbox in the OpenAPI document: the token routes under /v1 (an API key), the feed under
// /inbox/v1 (an inbox token, scheme `inboxToken`), its event stream and the web component's script.
import {
  ANY_HEADERS,
  header,
  json,
  jsonResponse,
  noContent,
  pathParam,
  queryParams,
  unauthenticated,
  v1,
  type Json,
} from '../openapi-parts.js';
import {
  inboxCountsResponse,
  inboxFeedQuerySchema,
  inboxItemResponse,
  inboxMessageIdSchema,
  inboxPageResponse,
  inboxReadAllResponse,
  inboxReadSchema,
  inboxTokenResponse,
} from '../../domain/inbox.js';
import { userIdParamSchema } from '../../domain/schemas.js';
import { COMPONENT_PATH, INBOX_API_PATH, INBOX_RATE_LIMIT } from './routes.js';
import { MAX_STREAMS_PER_USER, streamQuerySchema } from './stream.js';

const problem = (description: string, headers: Json = ANY_HEADERS) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const RATE_HEADERS = { RateLimit: header('RateLimit'), 'RateLimit-Policy': header('RateLimitPolicy') };
const OFF = 'The inbox is off (no INBOX_SECRET), or no such message of this user';

/** An operation of the feed: the inbox token authenticates; its refusals are problems. */
function feed(op: {
  operationId: string;
  summary: string;
  parameters?: Json[];
  body?: Json;
  responses: Record<string, Json>;
}): Json {
  return {
    operationId: op.operationId,
    summary: op.summary,
    security: [{ inboxToken: [] }],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body
      ? { requestBody: { required: false, content: { 'application/json': { schema: op.body } } } }
      : {}),
    responses: {
      ...op.responses,
      '401': problem(
        'No inbox token, or one altered, expired or revoked (`type` says which); nothing was changed',
        { ...ANY_HEADERS, 'WWW-Authenticate': header('WwwAuthenticate') },
      ),
      '404': problem(OFF),
      '422': problem('The request is invalid; `errors` lists every field, and nothing was changed'),
      '429': problem(
        `Too many requests for this user (${INBOX_RATE_LIMIT.burst} at once, then ${INBOX_RATE_LIMIT.perSecond} a second, per API process)`,
        { ...ANY_HEADERS, ...RATE_HEADERS, 'Retry-After': header('RetryAfter') },
      ),
      ...(op.body
        ? {
            '400': problem('The body is not JSON'),
            '413': problem('The body exceeds 256 KB'),
            '415': problem('The body is not application/json'),
          }
        : {}),
    },
  };
}
const ok = (description: string, schema: Parameters<typeof unauthenticated>[1]) => ({
  ...unauthenticated(description, schema),
  headers: { ...ANY_HEADERS, ...RATE_HEADERS },
});

const MARKS = {
  read: 'Mark read (and seen); with `clicked` or `action`, the reader opened its link or pressed a button',
  unread: 'Mark unread again',
  seen: 'Mark seen: shown to the reader, not necessarily read',
  archive: 'Archive: out of the feed and the counts, into `status=archived`',
} as const;

export function inboxOpenApiPaths(): Record<string, Json> {
  const userId = pathParam('id', userIdParamSchema, "Herald's user id or the caller's externalId");
  const messageId = pathParam('id', inboxMessageIdSchema);
  const paths: Record<string, Json> = {
    '/v1/users/{id}/inbox-token': {
      post: v1({
        operationId: 'createInboxToken',
        summary:
          "A token for the user's own inbox (/inbox/v1), for their browser: valid for INBOX_TOKEN_TTL, until revoked (404 without INBOX_SECRET)",
        parameters: [userId],
        responses: { '201': jsonResponse('The token', inboxTokenResponse) },
        errors: [404, 422],
      }),
      delete: v1({
        operationId: 'revokeInboxTokens',
        summary: 'Revoke every inbox token issued to the user so far, and end the streams they opened',
        parameters: [userId],
        responses: { '204': noContent('Revoked') },
        errors: [404, 422],
      }),
    },
    [COMPONENT_PATH]: {
      get: {
        operationId: 'inboxComponent',
        summary: 'The <herald-inbox> web component (docs/inbox.md)',
        security: [],
        responses: {
          '200': {
            description: 'JavaScript that defines the element',
            headers: ANY_HEADERS,
            content: { 'text/javascript': { schema: { type: 'string' } } },
          },
          '404': problem('The inbox is off (no INBOX_SECRET)'),
        },
      },
    },
    [`${INBOX_API_PATH}/messages`]: {
      get: feed({
        operationId: 'listInboxMessages',
        summary: "The user's inbox, newest first, a page at a time",
        parameters: queryParams(inboxFeedQuerySchema),
        responses: { '200': ok('A page of messages', inboxPageResponse) },
      }),
    },
    [`${INBOX_API_PATH}/counts`]: {
      get: feed({
        operationId: 'countInboxMessages',
        summary: 'Unread and unseen messages (archived ones not counted): the badge',
        responses: { '200': ok('The counts', inboxCountsResponse) },
      }),
    },
    [`${INBOX_API_PATH}/read-all`]: {
      post: feed({
        operationId: 'readAllInboxMessages',
        summary: 'Mark every unread message read',
        responses: { '200': ok('How many became read', inboxReadAllResponse) },
      }),
    },
    [`${INBOX_API_PATH}/stream`]: {
      get: feed({
        operationId: 'streamInbox',
        summary: `Server-Sent Events: \`message\` (a new item, as in the feed) and \`counts\`; the token may be ?token= (EventSource sends no header); at most ${MAX_STREAMS_PER_USER} per user per API process`,
        parameters: [
          ...queryParams(streamQuerySchema),
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The last event id received: the messages after it are sent first',
            schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})$' },
          },
        ],
        responses: {
          '200': {
            description:
              'An event stream that stays open: `id` is the number of the last message sent, `event` is `message` or `counts`, `data` is JSON',
            headers: ANY_HEADERS,
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      }),
    },
  };
  for (const [mark, summary] of Object.entries(MARKS)) {
    paths[`${INBOX_API_PATH}/messages/{id}/${mark}`] = {
      post: feed({
        operationId: `${mark}InboxMessage`,
        summary,
        parameters: [messageId],
        ...(mark === 'read' ? { body: json(inboxReadSchema) } : {}),
        responses: { '200': ok('The message as it is now', inboxItemResponse) },
      }),
    };
  }
  paths[`${INBOX_API_PATH}/messages/{id}/acknowledge`] = {
    post: feed({
      operationId: 'acknowledgeInboxMessage',
      summary:
        "Acknowledge a message that asks for it (`ackRequested`), and read it: recorded once on the notification's in_app delivery and signalled to its workflow",
      parameters: [messageId],
      responses: {
        '200': ok(
          'The message as it is now (`acknowledgedAt` set; a repeat changes nothing)',
          inboxItemResponse,
        ),
        '409': problem('The message does not ask to be acknowledged; nothing was changed'),
      },
    }),
  };
  return paths;
}
