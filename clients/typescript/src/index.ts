// @herald/client: a typed client for Herald's HTTP API (README.md beside src/).
export {
  createHeraldClient,
  type AcceptedNotification,
  type BulkNotificationInput,
  type CreateUserInput,
  type CreateWebhookInput,
  type FlowInput,
  type HeraldClient,
  type HeraldClientOptions,
  type Notification,
  type NotificationInput,
  type NotificationPage,
  type NotificationQuery,
  type NotificationSummary,
  type PushSubscriptionInput,
  type SendOptions,
  type TopicInput,
  type UpdateUserInput,
  type User,
} from './client.js';
export {
  BadRequestProblem,
  ConflictProblem,
  ForbiddenProblem,
  HeraldProblem,
  NotFoundProblem,
  RateLimitedProblem,
  UnauthorizedProblem,
  UnavailableProblem,
  ValidationProblem,
  type FieldError,
  type ProblemBody,
  type ProblemName,
} from './problems.js';
export type { RetryEvent, RetryOptions } from './retry.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  type ChannelOutcome,
  type NotificationOutcome,
  type WebhookEvent,
  type WebhookHeaders,
} from './webhooks.js';
export type { components, operations, paths } from './schema.js';
