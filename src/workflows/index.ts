export { notificationWorkflow } from './notification.js';
export { reconcileNotificationsWorkflow } from './reconciler.js';
export { pruneInboxWorkflow } from './inbox-retention.js';
export { pruneHistoryWorkflow } from './history-retention.js';
export { bulkFanOutWorkflow } from './bulk-fan-out.js';
