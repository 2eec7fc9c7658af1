// The provider fakes a whole Herald stack talks to, started together: SMTP, HTTPS Web Push, the Telegram
// Bot API and the SMS gateway. Shared by the benchmark and the chaos suite.
import webpush from 'web-push';
import { startPushEndpoint, type PushEndpoint } from './push-endpoint.js';
import { startSmsGateway, type SmsGateway } from './sms-gateway.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { startTelegramFake, type TelegramFake } from './telegram-fake.js';

export interface Sinks {
  smtp: SmtpSink;
  push: PushEndpoint;
  telegram: TelegramFake;
  sms: SmsGateway;
}

/** The four providers' sinks on free ports: SMTP, HTTPS Web Push, the Telegram Bot API fake, the SMS gateway. */
export async function startSinks(telegramToken: string): Promise<Sinks> {
  return {
    smtp: await startSmtpSink(),
    push: await startPushEndpoint(),
    telegram: await startTelegramFake({ token: telegramToken }),
    sms: await startSmsGateway(),
  };
}

export async function stopSinks(sinks: Sinks): Promise<void> {
  await sinks.smtp.close();
  await sinks.push.stop();
  await sinks.telegram.stop();
  await sinks.sms.stop();
}

/**
 * The environment of Herald's processes (worker and API) against the sinks, before per-process
 * additions: every channel configured, and the limits that would measure themselves lifted.
 */
export function heraldProcessEnv(o: {
  databaseUrl: string;
  temporalAddress: string;
  apiKey: string;
  mailFrom: string;
  telegramToken: string;
  sinks: Sinks;
  /** The push sink's self-signed certificate, trusted as a provider's would be. */
  caFile: string;
  bundlePath: string;
  /** Where email goes; the SMTP sink itself unless something stands in front of it. */
  smtpUrl?: string;
}): Record<string, string> {
  const vapid = webpush.generateVAPIDKeys();
  return {
    DATABASE_URL: o.databaseUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    API_KEYS: o.apiKey,
    SMTP_URL: o.smtpUrl ?? o.sinks.smtp.url,
    MAIL_FROM: o.mailFrom,
    TELEGRAM_BOT_TOKEN: o.telegramToken,
    TELEGRAM_API_URL: o.sinks.telegram.url,
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: o.sinks.sms.url,
    NODE_EXTRA_CA_CERTS: o.caFile,
    // The sinks (the push endpoint, webhook receivers) listen on 127.0.0.1, which is otherwise refused.
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    // The sinks have no provider limits: Telegram's own 30/s and the API's per-key limit would measure
    // those limits, not Herald. Both are configuration, and the bench report names them.
    CHANNEL_RATE_LIMITS: 'telegram=100000',
    API_RATE_LIMIT: '1000000',
    API_RATE_BURST: '1000000',
    // Built once, as the Dockerfile does; workers load it instead of bundling.
    WORKFLOW_BUNDLE_PATH: o.bundlePath,
    LOG_LEVEL: 'info',
  };
}
