import type { Client } from '@temporalio/client';
import type { Db } from '../store/db.js';
import type { Logger } from '../platform/logger.js';
import { deliverActivityName, type ChannelName } from '../workflows/definitions.js';
import type { ChannelRegistry } from './channels/registry.js';
import type { DeliverySettings } from '../workflows/policies.js';
import { createCompleteNotification, createRecordProgress } from './complete-notification.js';
import { createDeliver, type DeliverOptions, type DeliveryInput, type DeliveryResult } from './deliver.js';
import { createResolveRecipient } from './resolve-recipient.js';
import { createRecordWebhookFailure } from './webhooks.js';
import { createReconcileNotifications } from './reconcile-notifications.js';
import { createPruneInbox } from './prune-inbox.js';
import { createPruneHistory } from './prune-history.js';
import { createDigestPreference } from './digest-preference.js';
import { createStartBulkPage } from './start-bulk-page.js';
import { createBroadcastActivities } from './broadcast.js';
import { createFlowActivities } from './flows.js';

export type { DeliveryInput, DeliveryResult } from './deliver.js';
export type { RecipientPlan } from './resolve-recipient.js';
export type { CompletionInput, ProgressInput } from './complete-notification.js';
export type { ReconcileInput, ReconcileResult } from './reconcile-notifications.js';
export type { PruneInboxInput, PruneInboxResult } from './prune-inbox.js';
export type { PruneHistoryInput, PruneHistoryResult } from './prune-history.js';
export type { DigestPreferenceInput } from './digest-preference.js';
export type { DigestPreference } from '../domain/digest-preference.js';
export type { BulkPageInput, BulkPageResult } from './start-bulk-page.js';
export { createWebhookActivities, type WebhookActivities } from './webhooks.js';

export interface ActivityDeps {
  db: Db;
  configuredChannels: readonly ChannelName[];
  mandatoryCategories: readonly string[];
  settings: DeliverySettings;
  /** The reconciler starts workflows left unstarted. */
  temporal: Client;
  logger: Logger;
  /** INBOX_RETENTION: inbox retention removes read and archived messages older than this. */
  inboxRetentionMs: number;
  /** HISTORY_RETENTION: history retention removes notifications that ended longer ago than this. */
  historyRetentionMs: number;
  /** FAN_OUT_WINDOW: a bulk send's or broadcast's started notifications waiting for their first step. */
  fanOutWindow?: number;
}

/** Activities of the notifications queue: orchestration side effects. */
export function createNotificationActivities(deps: ActivityDeps) {
  return {
    resolveRecipient: createResolveRecipient(deps),
    recordProgress: createRecordProgress(deps.db),
    completeNotification: createCompleteNotification(deps.db),
    recordWebhookFailure: createRecordWebhookFailure(deps.db),
    reconcileNotifications: createReconcileNotifications(deps),
    pruneInbox: createPruneInbox(deps),
    pruneHistory: createPruneHistory(deps),
    digestPreference: createDigestPreference(deps.db),
    startBulkPage: createStartBulkPage(deps),
    ...createBroadcastActivities(deps),
    ...createFlowActivities(deps),
  };
}
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;

export type DeliverActivity = (input: DeliveryInput) => Promise<DeliveryResult>;

/** Activities of the channel queues: `deliverEmail` on `email`, and so on. */
export function createDeliveryActivities(
  db: Db,
  channels: ChannelRegistry,
  options: DeliverOptions,
): Record<string, DeliverActivity> {
  return Object.fromEntries(
    Object.values(channels).map((provider) => [
      deliverActivityName(provider.channel),
      createDeliver(db, provider, options),
    ]),
  );
}
