import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { configuredChannels } from '../../src/activities/channels/registry.js';

const DATABASE_URL = 'postgres://herald:secret@127.0.0.1:5432/herald';

/** Runs loadConfig expecting a ConfigError and returns its problems. */
function problemsOf(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.name, 'ConfigError');
    return error.problems;
  }
  assert.fail('loadConfig did not throw');
}

const variables = (problems: { variable: string }[]) => problems.map((p) => p.variable).sort();

describe('loadConfig', () => {
  it('reports a missing DATABASE_URL as required', () => {
    const problems = problemsOf({});
    assert.deepEqual(problems, [{ variable: 'DATABASE_URL', message: 'is required' }]);
  });

  it('names the variable in the error message', () => {
    assert.throws(
      () => loadConfig({}),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^Invalid configuration:\n {2}DATABASE_URL: is required$/);
        return true;
      },
    );
  });

  it('rejects a DATABASE_URL that is not a postgres URL', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://localhost/herald' });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.variable, 'DATABASE_URL');
    assert.match(problems[0]!.message, /postgres:\/\//);
  });

  it('treats an empty string as unset', () => {
    assert.deepEqual(problemsOf({ DATABASE_URL: '' }), [
      { variable: 'DATABASE_URL', message: 'is required' },
    ]);
    // Empty optional variables fall back to their defaults instead of failing validation.
    const config = loadConfig({
      DATABASE_URL,
      PORT: '',
      TEMPORAL_ADDRESS: '',
      SMTP_URL: '',
      VAPID_PUBLIC_KEY: '',
    });
    assert.equal(config.port, 3000);
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.smtp.url, undefined);
    assert.equal(config.vapid.publicKey, undefined);
  });

  it('applies defaults', () => {
    const config = loadConfig({ DATABASE_URL });
    assert.equal(config.databaseUrl, DATABASE_URL);
    assert.deepEqual(config.temporal, { address: '127.0.0.1:7233', namespace: 'default' });
    assert.equal(config.port, 3000);
    assert.deepEqual(config.apiKeys, []);
    assert.equal(config.smtp.from, 'Herald <herald@localhost>');
    assert.equal(config.smtp.url, undefined);
    assert.equal(config.telegram.apiUrl, 'https://api.telegram.org');
    assert.equal(config.vapid.subject, 'mailto:herald@localhost');
    assert.equal(config.sms.provider, undefined);
    assert.equal(config.logLevel, 'info');
  });

  it('reads explicit values', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://db.internal/herald',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'herald-prod',
      PORT: '8080',
      SMTP_URL: 'smtps://user:pass@mail.example.test:465',
      LOG_LEVEL: 'debug',
    });
    assert.equal(config.databaseUrl, 'postgresql://db.internal/herald');
    assert.deepEqual(config.temporal, { address: 'temporal.internal:7233', namespace: 'herald-prod' });
    assert.equal(config.port, 8080);
    assert.equal(config.smtp.url, 'smtps://user:pass@mail.example.test:465');
    assert.equal(config.logLevel, 'debug');
  });

  it('splits API_KEYS on commas, trims them and drops empty entries', () => {
    const config = loadConfig({ DATABASE_URL, API_KEYS: ' key-one, key-two ,,key-three ,' });
    assert.deepEqual(config.apiKeys, ['key-one', 'key-two', 'key-three']);
  });

  for (const value of ['abc', '3000.5', '70000', '-1']) {
    it(`rejects PORT=${value}`, () => {
      const problems = problemsOf({ DATABASE_URL, PORT: value });
      assert.deepEqual(variables(problems), ['PORT']);
      // A value that is present but wrong is not reported as missing.
      assert.doesNotMatch(problems[0]!.message, /is required/);
    });
  }

  for (const value of ['localhost', 'http://localhost:7233', '127.0.0.1:port']) {
    it(`rejects TEMPORAL_ADDRESS=${value}`, () => {
      const problems = problemsOf({ DATABASE_URL, TEMPORAL_ADDRESS: value });
      assert.deepEqual(variables(problems), ['TEMPORAL_ADDRESS']);
      assert.match(problems[0]!.message, /host:port/);
    });
  }

  for (const value of ['http://mail.example.test', 'mail.example.test:25', 'not a url']) {
    it(`rejects SMTP_URL=${value}`, () => {
      const problems = problemsOf({ DATABASE_URL, SMTP_URL: value });
      assert.deepEqual(variables(problems), ['SMTP_URL']);
      assert.match(problems[0]!.message, /smtp:\/\/ or smtps:\/\//);
    });
  }

  it('names every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'x', SMTP_URL: 'http://mail', TEMPORAL_ADDRESS: 'nope' });
    assert.deepEqual(variables(problems), ['DATABASE_URL', 'PORT', 'SMTP_URL', 'TEMPORAL_ADDRESS']);
  });

  it('requires SMS_HTTP_URL when SMS_PROVIDER=http', () => {
    const problems = problemsOf({ DATABASE_URL, SMS_PROVIDER: 'http' });
    assert.deepEqual(problems, [{ variable: 'SMS_HTTP_URL', message: 'is required when SMS_PROVIDER=http' }]);

    const config = loadConfig({
      DATABASE_URL,
      SMS_PROVIDER: 'http',
      SMS_HTTP_URL: 'https://sms.example.test/send',
    });
    assert.deepEqual(config.sms, {
      provider: 'http',
      url: 'https://sms.example.test/send',
      token: undefined,
      maxSegments: 3,
      // Twilio's slice is read too, idle while the http provider is chosen.
      twilio: {
        accountSid: undefined,
        apiUrl: 'https://api.twilio.com',
        authToken: undefined,
        from: undefined,
        messagingServiceSid: undefined,
      },
    });
  });

  it('rejects an unknown SMS_PROVIDER', () => {
    assert.deepEqual(variables(problemsOf({ DATABASE_URL, SMS_PROVIDER: 'carrier-pigeon' })), [
      'SMS_PROVIDER',
    ]);
  });

  it('requires both VAPID keys or neither', () => {
    const onlyPublic = problemsOf({ DATABASE_URL, VAPID_PUBLIC_KEY: 'pub' });
    assert.deepEqual(variables(onlyPublic), ['VAPID_PRIVATE_KEY']);
    assert.match(onlyPublic[0]!.message, /must be set together/);

    const onlyPrivate = problemsOf({ DATABASE_URL, VAPID_PRIVATE_KEY: 'priv' });
    assert.deepEqual(variables(onlyPrivate), ['VAPID_PUBLIC_KEY']);

    const both = loadConfig({ DATABASE_URL, VAPID_PUBLIC_KEY: 'pub', VAPID_PRIVATE_KEY: 'priv' });
    assert.deepEqual(both.vapid, {
      publicKey: 'pub',
      privateKey: 'priv',
      subject: 'mailto:herald@localhost',
    });
  });
});

describe('delivery settings', () => {
  it('has the documented defaults', () => {
    const { delivery, defaultLocale, sms, push } = loadConfig({ DATABASE_URL });
    assert.deepEqual(delivery, {
      // Each under its provider's limit for one bot, conversation or webhook (docs/channels.md).
      rateLimits: { telegram: 25, slack: 1, discord: 2.5, teams: 4 },
      retryPolicies: {},
      retryWindowMs: 7 * 24 * 3_600_000,
      mandatoryCategories: ['security'],
      channels: undefined,
    });
    assert.equal(defaultLocale, 'en');
    assert.equal(sms.maxSegments, 3);
    assert.equal(push.ttlSeconds, 86_400);
  });

  it('reads durations, per-channel retry policies and rate limits', () => {
    const { delivery } = loadConfig({
      DATABASE_URL,
      DELIVERY_RETRY_WINDOW: '36h',
      DELIVERY_RETRY_POLICIES:
        '{"sms":{"initialInterval":"5s","backoffCoefficient":3,"giveUpAfter":"2h","attemptTimeout":"20s"}}',
      CHANNEL_RATE_LIMITS: 'sms=10, push=100',
      MANDATORY_CATEGORIES: 'security, billing',
    });
    assert.equal(delivery.retryWindowMs, 36 * 3_600_000);
    assert.deepEqual(delivery.retryPolicies, {
      sms: { initialInterval: 5_000, backoffCoefficient: 3, giveUpAfter: 7_200_000, attemptTimeout: 20_000 },
    });
    // A channel keeps its default unless it is named.
    assert.deepEqual(delivery.rateLimits, {
      telegram: 25,
      slack: 1,
      discord: 2.5,
      teams: 4,
      sms: 10,
      push: 100,
    });
    assert.deepEqual(delivery.mandatoryCategories, ['security', 'billing']);
  });

  it('plans the channels DELIVERY_CHANNELS names, else those with provider settings here', () => {
    const smtp = { DATABASE_URL, SMTP_URL: 'smtp://127.0.0.1:2525' };
    assert.deepEqual(configuredChannels(loadConfig(smtp)), ['email']);
    // The API and the notifications worker of docker-compose.yml hold no provider's credentials.
    const listed = loadConfig({ DATABASE_URL, DELIVERY_CHANNELS: 'telegram, email' });
    assert.deepEqual(configuredChannels(listed), ['telegram', 'email']);
    assert.deepEqual(variables(problemsOf({ DATABASE_URL, DELIVERY_CHANNELS: 'email,fax' })), [
      'DELIVERY_CHANNELS',
    ]);
  });

  it('names each malformed setting', () => {
    const problems = problemsOf({
      DATABASE_URL,
      DELIVERY_RETRY_WINDOW: 'a week',
      DELIVERY_RETRY_POLICIES: '{"fax":{}}',
      CHANNEL_RATE_LIMITS: 'telegram=fast',
      SMS_MAX_SEGMENTS: '0',
    });
    assert.deepEqual(variables(problems), [
      'CHANNEL_RATE_LIMITS',
      'DELIVERY_RETRY_POLICIES',
      'DELIVERY_RETRY_WINDOW',
      'SMS_MAX_SEGMENTS',
    ]);
    assert.match(problems.find((p) => p.variable === 'DELIVERY_RETRY_WINDOW')!.message, /duration/);
    assert.deepEqual(variables(problemsOf({ DATABASE_URL, DELIVERY_RETRY_POLICIES: '{not json' })), [
      'DELIVERY_RETRY_POLICIES',
    ]);
    assert.match(
      problemsOf({ DATABASE_URL, DELIVERY_RETRY_POLICIES: '{"email":{"giveUpAfter":"soon"}}' })[0]!.message,
      /email\.giveUpAfter/,
    );
    assert.match(
      problemsOf({ DATABASE_URL, DELIVERY_RETRY_POLICIES: '{"email":{"attemptTimeout":"1s"}}' })[0]!.message,
      /email\.attemptTimeout: must be at least 2s/,
    );
  });
});

describe('API rate limit settings', () => {
  it('defaults to 50 requests a second per key with bursts of 100', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL }).api.rateLimit, { perSecond: 50, burst: 100 });
  });

  it('reads API_RATE_LIMIT and API_RATE_BURST', () => {
    const { api } = loadConfig({ DATABASE_URL, API_RATE_LIMIT: '2.5', API_RATE_BURST: '10' });
    assert.deepEqual(api.rateLimit, { perSecond: 2.5, burst: 10 });
  });

  for (const [variable, value] of [
    ['API_RATE_LIMIT', '0'],
    ['API_RATE_LIMIT', '-5'],
    ['API_RATE_LIMIT', 'fast'],
    ['API_RATE_BURST', '0'],
    ['API_RATE_BURST', '1.5'],
    ['API_RATE_BURST', 'lots'],
  ] as const) {
    it(`rejects ${variable}=${value}`, () => {
      const problems = problemsOf({ DATABASE_URL, [variable]: value });
      assert.deepEqual(variables(problems), [variable]);
      assert.match(problems[0]!.message, /positive|at least 1/);
    });
  }
});
