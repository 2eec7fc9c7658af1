// One Web Push request (RFC 8030). web-push's sendNotification cannot be stopped once it has started;
// a delivery attempt must stop talking to the push service when its budget runs out, so web-push only
// builds the request (encryption, VAPID, headers) and node:https sends it with the attempt's signal.
import https from 'node:https';
import webpush from 'web-push';

type PushSubscription = webpush.PushSubscription;

/** Resolves on 2xx; rejects with web-push's own WebPushError otherwise, as sendNotification does. */
export function sendPushRequest(
  subscription: PushSubscription,
  payload: string,
  options: webpush.RequestOptions,
  signal?: AbortSignal,
): Promise<void> {
  const details = webpush.generateRequestDetails(subscription, payload, options);
  return new Promise((resolve, reject) => {
    const request = https.request(
      details.endpoint,
      { method: details.method, headers: details.headers, agent: options.agent, signal },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status <= 299) return resolve();
          reject(
            new webpush.WebPushError(
              'Received unexpected response code',
              status,
              response.headers as webpush.Headers,
              body,
              details.endpoint,
            ),
          );
        });
      },
    );
    // An idle socket, as web-push's `timeout`; the attempt's signal bounds the whole request.
    if (options.timeout) {
      request.setTimeout(options.timeout, () => request.destroy(new Error('Socket timeout')));
    }
    request.on('error', reject);
    request.end(details.body ?? undefined);
  });
}
