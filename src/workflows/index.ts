export { notificationWorkflow } from './notification.js';
export { reconcileNotificationsWorkflow } from './reconciler.js';
export { pruneInboxWorkflow } from './inbox-retention.js';
export { digestWorkflow } from './flows/digest.js';
