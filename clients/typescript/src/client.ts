// The hand-written layer over the generated types: openapi-fetch makes every call typed from Herald's
// OpenAPI document; this adds what each caller would otherwise write again: an Idempotency-Key on every
// send, retries on 429/503 that honour Retry-After, problem+json as exceptions, and cursor iteration.
import createClient, { type Client } from 'openapi-fetch';
import { problemFrom } from './problems.js';
import { retryingFetch, type Fetch, type RetryOptions } from './retry.js';
import type { components, operations, paths } from './schema.js';

type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type NotificationInput = JsonBody<operations['sendNotification']>;
export type BulkNotificationInput = JsonBody<operations['sendBulk']>;
export type NotificationQuery = Query<operations['listNotifications']>;
export type CreateUserInput = JsonBody<operations['createUser']>;
export type UpdateUserInput = JsonBody<operations['updateUser']>;
export type PushSubscriptionInput = JsonBody<operations['addPushSubscription']>;
export type CreateWebhookInput = JsonBody<operations['createWebhook']>;
export type FlowInput = JsonBody<operations['putFlow']>;
export type TopicInput = JsonBody<operations['putTopic']>;
export type AcceptedNotification = components['schemas']['AcceptedNotification'];
export type Notification = components['schemas']['Notification'];
export type Broadcast = components['schemas']['Broadcast'];
export type NotificationPage = components['schemas']['NotificationPage'];
export type NotificationSummary = NotificationPage['items'][number];
export type User = components['schemas']['User'];

export interface HeraldClientOptions {
  /** Where the API is, such as `https://herald.example.com` (no trailing `/v1`). */
  baseUrl: string;
  /** An API key (`Authorization: Bearer`), with the scopes the calls need. */
  apiKey: string;
  /** Retries on 429 and 503 (and on connection failures when a request is safe to repeat); false: none. */
  retry?: RetryOptions | false;
  /** Each attempt gives up after this many milliseconds; unset: no limit. */
  timeoutMs?: number;
  /** The fetch to send with (default: the global one). */
  fetch?: Fetch;
  /** More headers for every request, such as `X-Request-Id` or `traceparent`. */
  headers?: Record<string, string>;
}

export interface SendOptions {
  /** Makes the send safe to repeat: the same key and body return the first notification. Default: a new UUID. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** What the API answered, or the HeraldProblem its error answer makes. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw problemFrom(result.response, result.error);
}

const id = (value: string) => ({ path: { id: value } });

export function createHeraldClient(options: HeraldClientOptions) {
  const baseFetch: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
    fetch: retryingFetch(
      baseFetch,
      options.retry === false ? { maxAttempts: 1 } : options.retry,
      options.timeoutMs,
    ),
  });

  const listPage = async (query: NotificationQuery = {}, signal?: AbortSignal): Promise<NotificationPage> =>
    unwrap(await api.GET('/v1/notifications', { params: { query }, signal }));

  const notifications = {
    /** Sends one notification → 202 `{id, status, workflowId}` and the Idempotency-Key it was sent with. */
    async send(input: NotificationInput, { idempotencyKey = crypto.randomUUID(), signal }: SendOptions = {}) {
      const accepted = unwrap(
        await api.POST('/v1/notifications', {
          body: input,
          params: { header: { 'Idempotency-Key': idempotencyKey } },
          signal,
        }),
      );
      return { ...accepted, idempotencyKey };
    },
    /** One notification to many recipients; each recipient's result (or error) in order. */
    async sendBulk(
      input: BulkNotificationInput,
      { idempotencyKey = crypto.randomUUID(), signal }: SendOptions = {},
    ) {
      const result = unwrap(
        await api.POST('/v1/notifications/bulk', {
          body: input,
          params: { header: { 'Idempotency-Key': idempotencyKey } },
          signal,
        }),
      );
      return { ...result, idempotencyKey };
    },
    /** The notification with each channel's deliveries. */
    get: async (notificationId: string): Promise<Notification> => {
      const found = unwrap(await api.GET('/v1/notifications/{id}', { params: id(notificationId) }));
      if ('kind' in found) throw new Error(`${notificationId} is a broadcast: read it with getBroadcast`);
      return found;
    },
    /** A broadcast (sent with `topic`) with its recipients' progress. */
    getBroadcast: async (broadcastId: string): Promise<Broadcast> => {
      const found = unwrap(await api.GET('/v1/notifications/{id}', { params: id(broadcastId) }));
      if (!('kind' in found)) throw new Error(`${broadcastId} is a notification, not a broadcast`);
      return found;
    },
    /** One page; pass its `nextCursor` as `cursor` for the next. */
    listPage,
    /** Every notification the query matches, newest first, fetching pages as the loop needs them. */
    async *list(query: Omit<NotificationQuery, 'cursor'> = {}, signal?: AbortSignal) {
      let cursor: string | undefined;
      do {
        const page = await listPage({ ...query, ...(cursor ? { cursor } : {}) }, signal);
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
    cancel: async (notificationId: string, reason?: string) =>
      unwrap(
        await api.POST('/v1/notifications/{id}/cancel', {
          params: id(notificationId),
          body: reason === undefined ? {} : { reason },
        }),
      ),
    /** Cancels every notification (and digested item) carrying the `cancellationKey` it was sent with. */
    cancelByKey: async (cancellationKey: string, reason?: string) =>
      unwrap(
        await api.POST('/v1/notifications/cancel', {
          body: reason === undefined ? { cancellationKey } : { cancellationKey, reason },
        }),
      ),
    /** Runs the failed deliveries again (while the notification waits for a retry). */
    retry: async (notificationId: string) =>
      unwrap(await api.POST('/v1/notifications/{id}/retry', { params: id(notificationId) })),
  };

  const users = {
    create: async (input: CreateUserInput): Promise<User> =>
      unwrap(await api.POST('/v1/users', { body: input })),
    /** By Herald's id or your externalId. */
    get: async (userId: string): Promise<User> =>
      unwrap(await api.GET('/v1/users/{id}', { params: id(userId) })),
    update: async (userId: string, input: UpdateUserInput): Promise<User> =>
      unwrap(await api.PATCH('/v1/users/{id}', { params: id(userId), body: input })),
    delete: async (userId: string): Promise<void> => {
      unwrap(await api.DELETE('/v1/users/{id}', { params: id(userId) }));
    },
    addPushSubscription: async (userId: string, subscription: PushSubscriptionInput) =>
      unwrap(await api.POST('/v1/users/{id}/push-subscriptions', { params: id(userId), body: subscription })),
    /** A short-lived token the user's browser gives `<herald-inbox>` (the in-app inbox). */
    inboxToken: async (userId: string) =>
      unwrap(await api.POST('/v1/users/{id}/inbox-token', { params: id(userId) })),
    /** The topics the user is subscribed to. */
    topics: async (userId: string) => unwrap(await api.GET('/v1/users/{id}/topics', { params: id(userId) })),
  };

  const key = (value: string) => ({ path: { key: value } });
  const flows = {
    /** Stores a new version of the flow (the same steps again return the current version). */
    put: async (flowKey: string, input: FlowInput) =>
      unwrap(await api.PUT('/v1/flows/{key}', { params: key(flowKey), body: input })),
    /** The flow with every version. */
    get: async (flowKey: string) => unwrap(await api.GET('/v1/flows/{key}', { params: key(flowKey) })),
    list: async () => unwrap(await api.GET('/v1/flows')),
    /** Running notifications keep the version they started with. */
    delete: async (flowKey: string): Promise<void> => {
      unwrap(await api.DELETE('/v1/flows/{key}', { params: key(flowKey) }));
    },
  };

  const topics = {
    put: async (topicKey: string, input: TopicInput) =>
      unwrap(await api.PUT('/v1/topics/{key}', { params: key(topicKey), body: input })),
    /** The topic with its subscriber count. */
    get: async (topicKey: string) => unwrap(await api.GET('/v1/topics/{key}', { params: key(topicKey) })),
    /** Up to 1,000 user ids or externalIds a call; subscribing again changes nothing. */
    subscribe: async (topicKey: string, users: string[]) =>
      unwrap(await api.POST('/v1/topics/{key}/subscribers', { params: key(topicKey), body: { users } })),
    unsubscribe: async (topicKey: string, userId: string): Promise<void> => {
      unwrap(
        await api.DELETE('/v1/topics/{key}/subscribers/{userId}', {
          params: { path: { key: topicKey, userId } },
        }),
      );
    },
  };

  const webhooks = {
    /** Registers an endpoint; the answer's `secret` is shown only this once: keep it for verifyWebhook. */
    create: async (input: CreateWebhookInput) => unwrap(await api.POST('/v1/webhooks', { body: input })),
    list: async () => unwrap(await api.GET('/v1/webhooks')),
    delete: async (webhookId: string): Promise<void> => {
      unwrap(await api.DELETE('/v1/webhooks/{id}', { params: id(webhookId) }));
    },
  };

  /** `api` is the typed openapi-fetch client itself, for every other route (`api.GET('/v1/templates/{key}', …)`). */
  return { notifications, users, webhooks, flows, topics, api };
}

export type HeraldClient = ReturnType<typeof createHeraldClient>;
