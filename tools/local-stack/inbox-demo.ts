// `npm run dev`'s inbox demo: a page, on an origin of its own as a real app would be, that embeds
// <herald-inbox> for a dev user. The page's server plays the app's backend: it holds the API key, asks
// Herald for the user's inbox token on every page load, and sends a test notification on request, so
// the key never reaches the browser.
import { createServer, type Server } from 'node:http';

export const DEMO_USER = 'dev-inbox-user';

export interface InboxDemo {
  url: string;
  close(): Promise<void>;
}

const page = (apiUrl: string, token: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald inbox demo</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1f2328; }
  header { display: flex; align-items: center; justify-content: space-between; padding: .5rem 1rem;
    border-bottom: 1px solid #d0d7de; }
  main { max-width: 40rem; padding: 1rem; }
  button { font: inherit; padding: .4rem .9rem; }
</style>
<script src="${apiUrl}/inbox/herald-inbox.js"></script>
</head>
<body>
<header>
  <strong>Your app</strong>
  <herald-inbox token="${token}"></herald-inbox>
</header>
<main>
  <h1>Herald inbox demo</h1>
  <p>The bell is <code>&lt;herald-inbox&gt;</code>, served by Herald, for the user <code>${DEMO_USER}</code>.
  This page's server asked Herald for the user's inbox token with the API key; the browser only has the token.</p>
  <p><button type="button" id="send">Send me a notification</button> <span id="said" role="status"></span></p>
  <p>Or from a terminal: <code>POST /v1/notifications</code> with <code>"userId": "${DEMO_USER}"</code>.</p>
</main>
<script>
  let n = 0;
  document.getElementById('send').addEventListener('click', async () => {
    const res = await fetch('/send', { method: 'POST' });
    document.getElementById('said').textContent = res.ok ? 'Sent (' + ++n + ')' : 'Could not send: ' + res.status;
  });
</script>
</body>
</html>
`;

/** Starts the demo on `port`; Herald's API must be up (the page asks it for a token). */
export async function startInboxDemo(options: {
  port: number;
  apiUrl: string;
  apiKey: string;
}): Promise<InboxDemo> {
  const { apiUrl, apiKey } = options;
  const herald = (path: string, body?: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let sent = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === 'POST' && req.url === '/send') {
          sent += 1;
          const answer = await herald('/v1/notifications', {
            userId: DEMO_USER,
            category: 'demo',
            channels: ['in_app'],
            title: `Demo notification ${sent}`,
            body: 'Sent from the inbox demo page, through POST /v1/notifications.',
          });
          res.writeHead(answer.status).end();
          return;
        }
        if (req.method !== 'GET' || req.url !== '/') return void res.writeHead(404).end();
        // 409: the dev user exists already, from an earlier page load or start.
        await herald('/v1/users', { externalId: DEMO_USER });
        const issued = await herald(`/v1/users/${DEMO_USER}/inbox-token`);
        if (issued.status !== 201)
          throw new Error(`Herald answered ${issued.status}: ${await issued.text()}`);
        const { token } = (await issued.json()) as { token: string };
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(page(apiUrl, token));
      } catch (error) {
        res
          .writeHead(502, { 'content-type': 'text/plain' })
          .end(`The demo could not reach Herald: ${String(error)}`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${options.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
