// The server-rendered pages of the preference center: a refused link, and the unsubscribe confirmation
// and outcome. The preference page itself is a static file (preference-center/index.html) with a script.
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import { escapeHtml } from '../platform/html.js';
import { PREFERENCES_PATH } from '../domain/preference-links.js';

/** The page's static files: HTML, CSS, the script and the service worker, served as they are. */
export const ASSETS_DIR = fileURLToPath(new URL('./preference-center/', import.meta.url));
export const ASSETS_PATH = `${PREFERENCES_PATH}/assets`;

/**
 * Every page: only Herald's own scripts, styles and connections, no framing, and no Referer, so the
 * signed link in the address bar is not sent anywhere. Links are personal: nothing is cached.
 */
export function setPageHeaders(res: Response): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  );
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
}

/** Builds HTML from a template, escaping every interpolated value. */
export const html = (strings: TemplateStringsArray, ...values: string[]): string =>
  strings.reduce((out, part, i) => out + part + (i < values.length ? escapeHtml(values[i]!) : ''), '');

/** A small page in the preference center's style; `body` is HTML (build it with `html`). */
export function sendPage(res: Response, status: number, title: string, body: string): void {
  setPageHeaders(res);
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${ASSETS_PATH}/preferences.css">
</head>
<body>
<main id="main" class="notice">
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`,
    );
}

/** Why a signed link was refused: altered (403), past its time (410), or its user is gone (404). */
export type Refusal = 'invalid' | 'expired' | 'gone';

const REFUSALS: Record<Refusal, { status: number; title: string; text: string }> = {
  invalid: {
    status: 403,
    title: 'This link is not valid',
    text:
      'It may have been copied incompletely or changed. Open the link in your most recent email ' +
      'again, or ask for a new one.',
  },
  expired: {
    status: 410,
    title: 'This link has expired',
    text:
      'For your safety, links to your notification settings work for a limited time. Use the link in ' +
      'a newer email, or ask for a new one.',
  },
  gone: {
    status: 404,
    title: 'Nothing to manage here',
    text: 'The account this link was made for no longer exists.',
  },
};

export function sendRefusal(res: Response, refusal: Refusal): void {
  const { status, title, text } = REFUSALS[refusal];
  sendPage(res, status, title, html`<p>${text}</p>`);
}
