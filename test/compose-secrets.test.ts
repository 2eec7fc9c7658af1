// Secrets in docker-compose.yml: compose refuses to start without the database passwords and the public
// URL (no default to forget), and each container gets only the secrets it reads. Every secret is set to
// a value of its own, and the resolved file shows which container's environment carries which.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_SLICES } from '../src/platform/config.js';
import { variablesOf } from '../src/platform/config/define.js';
import { REQUIRED_SETTINGS, resolvedCompose, runDockerCompose } from './support/compose.js';

/** The secrets a deployer sets: compose's database passwords and every variable Herald marks secret. */
const SECRETS = [
  'POSTGRES_PASSWORD',
  'TEMPORAL_POSTGRES_PASSWORD',
  ...[...variablesOf(CONFIG_SLICES)]
    .filter(([, definition]) => definition.secret)
    .map(([name]) => name)
    // Compose builds it from POSTGRES_PASSWORD.
    .filter((name) => name !== 'DATABASE_URL'),
];
const traceable = (secret: string) => `traceable-${secret.toLowerCase()}-value`;

/** What a Herald process needs to run at all: its database (through the URL) and the payload keys. */
const HERALD_PROCESS = ['POSTGRES_PASSWORD', 'CODEC_KEYS'];

/** Who may see which secret; a service missing here fails the test until someone decides. */
const MAY_SEE: Record<string, string[]> = {
  postgres: ['POSTGRES_PASSWORD'],
  'temporal-postgres': ['TEMPORAL_POSTGRES_PASSWORD'],
  'temporal-schema': ['TEMPORAL_POSTGRES_PASSWORD'],
  temporal: ['TEMPORAL_POSTGRES_PASSWORD'],
  'temporal-namespace': [],
  // TEMPORAL_CODEC_ENDPOINT carries the codec token in its path: the UI hands it to operators' browsers.
  'temporal-ui': ['CODEC_AUTH_TOKEN'],
  migrate: ['POSTGRES_PASSWORD'],
  // TWILIO_AUTH_TOKEN checks the signatures of Twilio's status callbacks.
  api: [
    ...HERALD_PROCESS,
    'API_KEYS',
    'PREFERENCES_SECRET',
    'CODEC_AUTH_TOKEN',
    'TELEGRAM_WEBHOOK_SECRET',
    'TWILIO_AUTH_TOKEN',
    'INBOX_SECRET',
  ],
  proxy: [],
  'worker-notifications': HERALD_PROCESS,
  'worker-webhooks': HERALD_PROCESS,
  // Its emails carry signed unsubscribe and preference links.
  'worker-email': [...HERALD_PROCESS, 'SMTP_URL', 'SMTP_FALLBACK_URL', 'PREFERENCES_SECRET'],
  // Every channel with links: acknowledge links are signed with PREFERENCES_SECRET.
  'worker-sms': [...HERALD_PROCESS, 'SMS_HTTP_TOKEN', 'TWILIO_AUTH_TOKEN', 'PREFERENCES_SECRET'],
  'worker-push': [
    ...HERALD_PROCESS,
    'VAPID_PRIVATE_KEY',
    'FCM_SERVICE_ACCOUNT',
    'APNS_KEY',
    'PREFERENCES_SECRET',
  ],
  // Its messages carry a signed Acknowledge button when asked.
  'worker-telegram': [...HERALD_PROCESS, 'TELEGRAM_BOT_TOKEN', 'PREFERENCES_SECRET'],
  'worker-slack': [...HERALD_PROCESS, 'SLACK_BOT_TOKEN', 'PREFERENCES_SECRET'],
  // Their credentials are in the users' webhook URLs, read from the database.
  'worker-discord': [...HERALD_PROCESS, 'PREFERENCES_SECRET'],
  'worker-teams': [...HERALD_PROCESS, 'PREFERENCES_SECRET'],
  // It stores messages; only the API signs the inbox's tokens.
  'worker-in_app': HERALD_PROCESS,
  // /prefs signs page links; /email and /phone send their codes through the providers themselves.
  bot: [
    ...HERALD_PROCESS,
    'TELEGRAM_BOT_TOKEN',
    'TELEGRAM_WEBHOOK_SECRET',
    'PREFERENCES_SECRET',
    'SMTP_URL',
    'SMTP_FALLBACK_URL',
    'SMS_HTTP_TOKEN',
    'TWILIO_AUTH_TOKEN',
  ],
  maildev: [],
};

describe('docker-compose.yml secrets', () => {
  for (const missing of Object.keys(REQUIRED_SETTINGS)) {
    it(`refuses to start without ${missing}`, () => {
      const settings = Object.fromEntries(
        Object.entries(REQUIRED_SETTINGS).filter(([name]) => name !== missing),
      );
      const result = runDockerCompose(settings, 'config', '-q');
      assert.notEqual(result.status, 0, `compose started without ${missing}`);
      assert.match(result.stderr, new RegExp(`set ${missing}\\b`));
    });
  }

  it('gives each container only the secrets it reads', () => {
    const compose = resolvedCompose({
      ...REQUIRED_SETTINGS,
      ...Object.fromEntries(SECRETS.map((secret) => [secret, traceable(secret)])),
      TEMPORAL_CODEC_ENDPOINT: `https://herald.example.test/codec/${traceable('CODEC_AUTH_TOKEN')}`,
    });
    const seen = Object.fromEntries(
      Object.entries(compose.services).map(([name, service]) => {
        const values = Object.values(service.environment ?? {}).map(String);
        const secrets = SECRETS.filter((secret) => values.some((value) => value.includes(traceable(secret))));
        return [name, secrets.sort()];
      }),
    );
    const allowed = Object.fromEntries(
      Object.keys(seen).map((name) => [name, [...(MAY_SEE[name] ?? ['(not in MAY_SEE)'])].sort()]),
    );
    assert.deepEqual(seen, allowed);
  });
});
