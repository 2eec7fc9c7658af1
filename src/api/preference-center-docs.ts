// The preference center's routes in the OpenAPI document: the page, its JSON endpoints (the link's
// token as a bearer token, scheme `preferencesToken`), the one-click unsubscribe URL and the acknowledge
// link's page (signed with the same secret).
import { ANY_HEADERS, header, json, unauthenticated, type Json } from './openapi-parts.js';
import { PREFERENCES_API_PATH, TEST_RATE_LIMIT, preferenceCenterUpdateSchema } from './preference-center.js';
import { preferenceCenterResponse } from './preference-center-state.js';
import { ACKNOWLEDGE_PATH } from '../domain/acknowledgement-links.js';
import { LINK_TOKEN_PATTERN, PREFERENCES_PATH, UNSUBSCRIBE_PATH } from '../domain/preference-links.js';
import {
  acceptedNotificationResponse,
  notificationResponse,
  pushSubscriptionResponse,
} from '../domain/views.js';
import { notificationIdSchema, pushSubscriptionSchema, subscriptionIdSchema } from '../domain/schemas.js';

const problem = (description: string, headers: Json = ANY_HEADERS) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const page = (description: string) => ({
  description,
  headers: ANY_HEADERS,
  content: { 'text/html': { schema: { type: 'string' } } },
});
/** When the preference center is off, every one of its routes is an unknown route (problem+json 404). */
const OFF = 'The preference center is off (no PREFERENCES_SECRET), or no such resource';
/** A page route: an HTML page for a refused link, problem+json when the preference center is off. */
const pageOr404 = (description: string) => ({
  description: `${description}; or ${OFF.charAt(0).toLowerCase()}${OFF.slice(1)} (problem+json)`,
  headers: ANY_HEADERS,
  content: {
    'text/html': { schema: { type: 'string' } },
    'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
  },
});
const tokenParam = (description: string) => ({
  name: 'token',
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', pattern: LINK_TOKEN_PATTERN.source },
});

/** An operation of the page's JSON API: the link's token authenticates; its refusals are problems. */
function pageApi(op: {
  operationId: string;
  summary: string;
  parameters?: Json[];
  body?: Json;
  responses: Record<string, Json>;
  errors?: Record<string, Json>;
}): Json {
  return {
    operationId: op.operationId,
    summary: op.summary,
    security: [{ preferencesToken: [] }],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } }
      : {}),
    responses: {
      ...op.responses,
      '401': problem('No token (`Authorization: Bearer <token from the page link>`)', {
        ...ANY_HEADERS,
        'WWW-Authenticate': header('WwwAuthenticate'),
      }),
      '403': problem('The token is not valid: altered or forged; nothing was changed'),
      '404': problem(OFF),
      '410': problem('The link has expired; nothing was changed'),
      ...(op.body
        ? {
            '400': problem('The body is not JSON'),
            '413': problem('The body exceeds 256 KB'),
            '415': problem('The body is not application/json'),
            '422': problem('The request is invalid; `errors` lists every field, and nothing was changed'),
          }
        : {}),
      ...op.errors,
    },
  };
}

export function preferenceCenterOpenApiPaths(): Record<string, Json> {
  const api = PREFERENCES_API_PATH;
  return {
    [`${PREFERENCES_PATH}/{token}`]: {
      get: {
        operationId: 'preferencePage',
        summary:
          "A user's preference page, from a signed link (POST /v1/users/{id}/preferences-link, emails, the bot's /prefs)",
        security: [],
        parameters: [tokenParam('The signed token of the page link')],
        responses: {
          '200': page('The page; its script calls the endpoints below with the same token'),
          '403': page('The link is not valid: altered or forged'),
          '404': pageOr404("The link's user no longer exists"),
          '410': page('The link has expired'),
        },
      },
    },
    [`${api}/state`]: {
      get: pageApi({
        operationId: 'getPreferenceCenter',
        summary: "What the page shows: channels, categories, the user's rules, quiet hours and browsers",
        responses: { '200': unauthenticated('The state of the page', preferenceCenterResponse) },
      }),
    },
    [`${api}/preferences`]: {
      put: pageApi({
        operationId: 'savePreferenceCenter',
        summary: 'Replace the rules and quiet hours (as PUT /v1/users/{id}/preferences), and the time zone',
        body: json(preferenceCenterUpdateSchema),
        responses: { '200': unauthenticated('Saved; the state of the page', preferenceCenterResponse) },
      }),
    },
    [`${api}/push-subscriptions`]: {
      post: pageApi({
        operationId: 'subscribePreferenceCenterBrowser',
        summary: "Store this browser's PushSubscription (JSON.stringify of it) for the link's user",
        body: json(pushSubscriptionSchema),
        responses: {
          '201': unauthenticated('Stored', pushSubscriptionResponse),
          '200': unauthenticated(
            'Already known: reactivated, and moved to this user',
            pushSubscriptionResponse,
          ),
        },
      }),
    },
    [`${api}/push-subscriptions/{subscriptionId}`]: {
      delete: pageApi({
        operationId: 'removePreferenceCenterBrowser',
        summary: "Remove one of the user's push subscriptions",
        parameters: [
          { name: 'subscriptionId', in: 'path', required: true, schema: json(subscriptionIdSchema) },
        ],
        responses: { '204': { description: 'Removed', headers: ANY_HEADERS } },
        errors: { '422': problem('The subscription id is not a UUID') },
      }),
    },
    [`${api}/test`]: {
      post: pageApi({
        operationId: 'sendPreferenceCenterTest',
        summary: `"Send me a test": a notification of category "test" through the user's own settings (${TEST_RATE_LIMIT.burst} at once, then one a minute)`,
        responses: {
          '202': {
            ...unauthenticated('Accepted: a workflow was started', acceptedNotificationResponse),
            headers: {
              ...ANY_HEADERS,
              RateLimit: header('RateLimit'),
              'RateLimit-Policy': header('RateLimitPolicy'),
            },
          },
        },
        errors: {
          '429': problem('Too many tests; retry after Retry-After', {
            ...ANY_HEADERS,
            RateLimit: header('RateLimit'),
            'RateLimit-Policy': header('RateLimitPolicy'),
            'Retry-After': header('RetryAfter'),
          }),
          '503': problem('Temporal is unreachable; retry after Retry-After', {
            ...ANY_HEADERS,
            'Retry-After': header('RetryAfter'),
          }),
        },
      }),
    },
    [`${api}/notifications/{id}`]: {
      get: pageApi({
        operationId: 'getPreferenceCenterNotification',
        summary: "One of the user's notifications (the test), with the state of each channel",
        parameters: [{ name: 'id', in: 'path', required: true, schema: json(notificationIdSchema) }],
        responses: { '200': unauthenticated('The notification', notificationResponse) },
        errors: { '422': problem('The id is not a UUID') },
      }),
    },
    [`${UNSUBSCRIBE_PATH}/{token}`]: {
      get: {
        operationId: 'unsubscribePage',
        summary: 'The List-Unsubscribe URL opened in a browser: a page that asks before it unsubscribes',
        security: [],
        parameters: [tokenParam('The signed token of the unsubscribe link')],
        responses: {
          '200': page('The confirmation page (or, for a mandatory category, why it cannot be turned off)'),
          '403': page('The link is not valid: altered or forged'),
          '404': pageOr404("The link's user no longer exists"),
        },
      },
      post: {
        operationId: 'unsubscribeOneClick',
        summary:
          "RFC 8058 one-click unsubscribe: no login; turns the link's category off on email for its user and records it",
        security: [],
        parameters: [tokenParam('The signed token of the unsubscribe link')],
        requestBody: {
          required: false,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  'List-Unsubscribe': { const: 'One-Click', description: 'What mail providers send' },
                  via: { const: 'page', description: 'What the confirmation page sends' },
                },
              },
            },
          },
        },
        responses: {
          '200': page('Unsubscribed (a repeat changes nothing more), or the category cannot be turned off'),
          '403': page('The link is not valid: altered or forged; nothing was changed'),
          '404': pageOr404("The link's user no longer exists"),
          '413': problem('The body exceeds 256 KB, or has too many fields'),
          '415': problem('The form is in a charset other than UTF-8'),
        },
      },
    },
    [`${ACKNOWLEDGE_PATH}/{token}`]: {
      get: {
        operationId: 'acknowledgePage',
        summary:
          'An acknowledge link opened in a browser: a page that asks before it acknowledges (a GET changes nothing)',
        security: [],
        parameters: [tokenParam('The signed token of the acknowledge link (valid 30 days)')],
        responses: {
          '200': page('The confirmation page, or when it was acknowledged already'),
          '403': page('The link is not valid: altered, forged, or revoked'),
          '404': pageOr404("The link's user or notification no longer exists"),
          '410': page('The link has expired'),
        },
      },
      post: {
        operationId: 'acknowledge',
        summary:
          "Acknowledges the link's delivery (the first time is recorded and signalled to the notification's workflow)",
        security: [],
        parameters: [tokenParam('The signed token of the acknowledge link (valid 30 days)')],
        responses: {
          '200': page('Acknowledged (a repeat changes nothing and shows when it was)'),
          '403': page('The link is not valid: altered, forged, or revoked; nothing was changed'),
          '404': pageOr404("The link's user or notification no longer exists; nothing was changed"),
          '410': page('The link has expired; nothing was changed'),
        },
      },
    },
  };
}
