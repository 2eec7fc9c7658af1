// The preference page's service worker: shows Herald's Web Push messages, whose payload is
// {notificationId, title, body, url, data, category} (src/activities/channels/push.ts), and opens
// `url` when the notification is clicked.

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
      data: { url: message.url },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
