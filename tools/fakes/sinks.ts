// The provider fakes a whole Herald stack talks to, started together: SMTP, HTTPS Web Push, FCM and APNs,
// the Telegram Bot API, the SMS gateway, and the chat and Twilio fakes. Shared by the benchmark and the
// chaos suite.
import webpush from 'web-push';
import { startApnsFake, type ApnsFake } from './apns-fake.js';
import { startDiscordFake, type DiscordFake } from './discord-webhook.js';
import { startFcmFake, type FcmFake } from './fcm-fake.js';
import { startPushEndpoint, type PushEndpoint } from './push-endpoint.js';
import { startSlackFake, type SlackFake } from './slack-api.js';
import { startSmsGateway, type SmsGateway } from './sms-gateway.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { startTeamsFake, type TeamsFake } from './teams-webhook.js';
import { startTelegramFake, type TelegramFake } from './telegram-fake.js';
import { startTwilioFake, type TwilioFake } from './twilio.js';

export interface Sinks {
  smtp: SmtpSink;
  push: PushEndpoint;
  /** Phones: Firebase Cloud Messaging (with Google's token endpoint) and Apple's push service. */
  fcm: FcmFake;
  apns: ApnsFake;
  telegram: TelegramFake;
  /** The generic HTTP SMS gateway (SMS_PROVIDER=http). */
  sms: SmsGateway;
  slack: SlackFake;
  discord: DiscordFake;
  teams: TeamsFake;
  /** Twilio's Messaging API (SMS_PROVIDER=twilio), with its status callbacks. */
  twilio: TwilioFake;
}

const SLACK_TOKEN = 'xoxb-herald-fake-sinks';

/** Every provider's fake on free ports. */
export async function startSinks(telegramToken: string): Promise<Sinks> {
  return {
    smtp: await startSmtpSink(),
    push: await startPushEndpoint(),
    fcm: await startFcmFake(),
    apns: await startApnsFake(),
    telegram: await startTelegramFake({ token: telegramToken }),
    sms: await startSmsGateway(),
    slack: await startSlackFake({ token: SLACK_TOKEN }),
    discord: await startDiscordFake(),
    teams: await startTeamsFake(),
    twilio: await startTwilioFake(),
  };
}

export async function stopSinks(sinks: Sinks): Promise<void> {
  await sinks.smtp.close();
  await sinks.push.stop();
  await sinks.fcm.stop();
  await sinks.apns.stop();
  await sinks.telegram.stop();
  await sinks.sms.stop();
  await sinks.slack.stop();
  await sinks.discord.stop();
  await sinks.teams.stop();
  await sinks.twilio.stop();
}

/** The HTTPS fakes' certificates (PEM), to trust as CAs: the NODE_EXTRA_CA_CERTS file's content. */
export const sinkCertificates = (sinks: Sinks): string =>
  [...new Set([sinks.push.ca, sinks.fcm.ca, sinks.apns.ca, sinks.discord.ca, sinks.teams.ca])].join('\n');

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

/**
 * What turns on the chat channels (Slack, Discord, Teams) and sends SMS through Twilio instead of the
 * HTTP gateway, added to heraldProcessEnv's; kept apart because the benchmark runs builds that predate them.
 * The HTTPS fakes' certificates must be in NODE_EXTRA_CA_CERTS (sinkCertificates).
 */
export function chatAndTwilioEnv(sinks: Sinks, o: { publicUrl: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_API_URL: sinks.slack.url,
    DISCORD_ENABLED: 'true',
    TEAMS_ENABLED: 'true',
    SMS_PROVIDER: 'twilio',
    TWILIO_API_URL: sinks.twilio.url,
    TWILIO_ACCOUNT_SID: sinks.twilio.accountSid,
    TWILIO_AUTH_TOKEN: sinks.twilio.authToken,
    TWILIO_FROM: '+15550000000',
    // Where the status callbacks go: the API.
    PUBLIC_URL: o.publicUrl,
    // Lifted as Telegram's is: the fakes have no limits, and Slack's default (1 a second) would pace the run.
    CHANNEL_RATE_LIMITS: 'telegram=100000,slack=100000,discord=100000,teams=100000',
  };
}

/**
 * What turns on native push (FCM and APNs devices on the push channel), added to heraldProcessEnv's;
 * kept apart as chatAndTwilioEnv is. The fakes' certificates must be in NODE_EXTRA_CA_CERTS (sinkCertificates).
 */
export function nativePushEnv(sinks: Sinks): Record<string, string> {
  return {
    FCM_SERVICE_ACCOUNT: JSON.stringify(sinks.fcm.serviceAccount),
    FCM_API_URL: sinks.fcm.url,
    APNS_KEY: sinks.apns.key,
    APNS_KEY_ID: sinks.apns.keyId,
    APNS_TEAM_ID: sinks.apns.teamId,
    APNS_TOPIC: sinks.apns.topic,
    APNS_API_URL: sinks.apns.url,
  };
}
