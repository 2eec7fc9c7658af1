export { notificationWorkflow } from './notification.js';
export { reconcileNotificationsWorkflow } from './reconciler.js';
