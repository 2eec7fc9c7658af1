// The preference page's service worker: shows Herald's Web Push messages, whose payload is
// {notificationId, title, body, url, data, category, acknowledgeUrl?} (src/activities/channels/push/),
// opens `url` when the notification is clicked, and the acknowledge page from its Acknowledge action.

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || 'Notification', {
      body: message.body || '',
      tag: message.notificationId,
      data: { url: message.url, acknowledgeUrl: message.acknowledgeUrl },
      actions: message.acknowledgeUrl ? [{ action: 'acknowledge', title: 'Acknowledge' }] : [],
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  // The Acknowledge action opens the acknowledge page, whose button records it.
  const url = event.action === 'acknowledge' ? data.acknowledgeUrl : data.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
