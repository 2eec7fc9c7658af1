import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { preferenceLinksFromConfig } from '../../../domain/preference-links.js';
import { ACKNOWLEDGE_LABEL } from '../../../domain/acknowledgement-links.js';
import { escapeHtml } from '../../../platform/html.js';
import {
  PermanentChannelError,
  type ChannelProvider,
  type FailureClass,
  type ChannelDefinition,
  type OutgoingMessage,
  type SendAttempt,
} from '../channel.js';
import { providerCall } from '../../../platform/telemetry.js';
import { emailConfig } from './config.js';
import { emailAddress } from './address.js';
import { emailOptOut, type EmailOptOutOptions, type FooterLine } from './opt-out.js';

export interface EmailOptions {
  url: string;
  /** A second server, used when the first fails transiently (down, busy, timing out). */
  fallbackUrl?: string;
  from: string;
  /** Domain used in the stable Message-ID; defaults to the sender's domain. */
  messageIdDomain?: string;
  /** List-Unsubscribe and the opt-out footer; emails carry neither without it (no PREFERENCES_SECRET). */
  optOut?: EmailOptOutOptions;
}

export function renderEmail(
  message: OutgoingMessage,
  footer: FooterLine[] = [],
): { subject: string; text: string; html: string } {
  const paragraphs = message.body
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  // Below the usual signature separator ("-- "), so mail clients can tell it from the message.
  const textFooter = footer.map((line) => (line.url ? `${line.text}: ${line.url}` : line.text)).join('\n');
  // The acknowledge link goes under the message, above the signature: it is part of what is asked.
  const ack = message.acknowledge?.url;
  const textAck = ack ? `\n\n${ACKNOWLEDGE_LABEL}: ${ack}` : '';
  const htmlAck = ack
    ? `\n<p><a href="${escapeHtml(ack)}" style="display:inline-block;padding:8px 16px;border:1px solid #1a5fb4;border-radius:4px">${ACKNOWLEDGE_LABEL}</a></p>`
    : '';
  const htmlFooter = footer
    .map((line) =>
      line.url ? `<a href="${escapeHtml(line.url)}">${escapeHtml(line.text)}</a>` : escapeHtml(line.text),
    )
    .join('<br>');
  return {
    subject: message.title,
    text: footer.length > 0 ? `${message.body}${textAck}\n\n-- \n${textFooter}\n` : message.body + textAck,
    html:
      `<!doctype html><html><body><h1>${escapeHtml(message.title)}</h1>\n${paragraphs}${htmlAck}` +
      (footer.length > 0 ? `\n<hr>\n<p style="font-size:12px;color:#555">${htmlFooter}</p>` : '') +
      '</body></html>',
  };
}

/** nodemailer's SMTP errors carry `code` and `responseCode`: 5xx will not change, 4xx may. */
export function classifySmtpError(error: unknown): FailureClass {
  const e = error as { code?: string; responseCode?: number; message?: string };
  const reason = e.message ?? String(error);
  if (error instanceof PermanentChannelError) return { permanent: true, reason };
  if (typeof e.responseCode === 'number') {
    return { permanent: e.responseCode >= 500, reason: `SMTP ${e.responseCode}: ${reason}` };
  }
  // Connection refused, timeouts, TLS trouble, DNS: the server may come back.
  return { permanent: false, reason: e.code ? `${e.code}: ${reason}` : reason };
}

function createTransport(url: string): Transporter<SMTPPool.SentMessageInfo> {
  return nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 5,
    // nodemailer waits up to 10 min on a silent socket by default; fail fast and let Temporal retry.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // An aborted send's connection is destroyed, not ended: what is still queued on it (the end of the
    // message) must not reach the server after the attempt has ended.
    socketCloseTimeout: 0,
  } as SMTPPool.Options);
}

/** One SMTP server, each message it takes a span of its own (the host only: the URL holds credentials). */
function smtpServer(url: string, role: 'primary' | 'fallback') {
  const transport = createTransport(url);
  const { hostname, port } = new URL(url);
  const attributes = {
    'server.address': hostname,
    'server.port': Number(port || 25),
    'herald.smtp.server': role,
  };
  return {
    sendMail: (mail: Parameters<typeof transport.sendMail>[0]) =>
      providerCall('smtp send', attributes, () => transport.sendMail(mail)),
    close: () => transport.close(),
  };
}

/**
 * The primary server's share of what is left of the attempt: half, when a fallback server waits its
 * turn, so that a server that stalls (no greeting, no reply to DATA) leaves the fallback time to send.
 * Not InFlightSends.requestSignal, as the HTTP channels use: the transports' own timeouts bound each
 * step of a send, and close() closes the pools rather than aborting a signal; only this split is ours.
 */
function primarySignal(attempt: SendAttempt | undefined, hasFallback: boolean): AbortSignal | undefined {
  if (!attempt || !hasFallback) return attempt?.signal;
  const share = Math.max(0, Math.floor((attempt.deadline - Date.now()) / 2));
  return AbortSignal.any([attempt.signal, AbortSignal.timeout(share)]);
}

export function createEmailChannel(options: EmailOptions): ChannelProvider {
  const primary = smtpServer(options.url, 'primary');
  const fallback = options.fallbackUrl ? smtpServer(options.fallbackUrl, 'fallback') : undefined;
  const domain = options.messageIdDomain ?? /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'herald.local';

  return {
    channel: 'email',
    async send(recipient, message, attempt) {
      const to = recipient.contacts.email;
      if (!to) throw new PermanentChannelError('the user has no email address');
      const optOut = options.optOut && emailOptOut(options.optOut, recipient, message);
      const { subject, text, html } = renderEmail(message, optOut?.footer);
      const mail = {
        from: options.from,
        to,
        subject,
        text,
        html,
        // Stable per notification and channel, so a resend after a crash can be recognised.
        messageId: `<${message.notificationId}.email@${domain}>`,
        headers: { 'X-Herald-Notification-Id': message.notificationId, ...optOut?.headers },
      };
      let info: SMTPPool.SentMessageInfo;
      const primaryShare = primarySignal(attempt, Boolean(fallback));
      try {
        info = await primary.sendMail({ ...mail, signal: primaryShare });
      } catch (error) {
        // A refusal (5xx) would be the same on any server; an outage or a 4xx may not be. With the
        // attempt's time gone, the fallback has none left.
        if (!fallback || classifySmtpError(error).permanent || attempt?.signal.aborted) throw error;
        if (primaryShare?.aborted) (error as Error).message = 'no answer within its share of the attempt';
        try {
          info = await fallback.sendMail({ ...mail, signal: attempt?.signal });
        } catch (fallbackError) {
          const e = fallbackError as Error;
          e.message = `fallback server: ${e.message} (primary: ${(error as Error).message})`;
          throw e;
        }
      }
      if (info.rejected.length > 0) {
        throw new PermanentChannelError(`recipient rejected: ${info.response}`);
      }
      return { providerMessageId: info.messageId };
    },
    classify: classifySmtpError,
    async close() {
      primary.close();
      fallback?.close();
    },
  };
}

export const emailChannel: ChannelDefinition = {
  channel: 'email',
  label: 'Email',
  config: emailConfig,
  // Its SMTP settings, and the secret that signs each email's unsubscribe and preference links.
  workerEnvironment: [...Object.keys(emailConfig.variables), 'PREFERENCES_SECRET'],
  contact: emailAddress,
  hasAddress: (recipient) => Boolean(recipient.contacts.email),
  isConfigured: (config) => Boolean(config.smtp.url),
  create: (config) => {
    const links = preferenceLinksFromConfig(config);
    return createEmailChannel({
      url: config.smtp.url!,
      fallbackUrl: config.smtp.fallbackUrl,
      from: config.smtp.from,
      optOut: links && { links, mandatoryCategories: config.delivery.mandatoryCategories },
    });
  },
};
