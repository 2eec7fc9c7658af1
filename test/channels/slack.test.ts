// The Slack channel against a fake of Slack's Web API (chat.postMessage): the message as posted, then
// end to end (API → workflow → the slack queue → the fake) for 429, permanent and transient answers.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChannelContext, ChannelProvider } from '../../src/activities/channels/channel.js';
import {
  classifySlackError,
  createSlackChannel,
  slackChannel,
} from '../../src/activities/channels/slack/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startSlackFake, type SlackFake } from '../../tools/fakes/slack-api.js';
import { deliveryClient } from '../support/deliveries.js';
import { failureOf, message, recipientOn } from '../support/messages.js';
import { startHerald, testEnv, type RunningStack } from '../support/stack.js';

const TOKEN = 'xoxb-test-0123456789';
const MEMBER = 'U123ABC45';
const recipient = (slack: string | null = MEMBER) => recipientOn('slack', slack);

describe('Slack channel (chat.postMessage)', () => {
  let slack: SlackFake;
  let channel: ChannelProvider;

  before(async () => {
    slack = await startSlackFake({ token: TOKEN });
    channel = createSlackChannel({ botToken: TOKEN, apiUrl: slack.url });
  });
  beforeEach(() => slack.reset());
  after(async () => {
    await channel?.close();
    await slack?.stop();
  });

  it('posts JSON with the bearer token: a text fallback and blocks, user text escaped for mrkdwn', async () => {
    const result = await channel.send(recipient(), {
      ...message('Deploy <!channel> & co', 'a < b > c <@U999|boss> <https://evil.example|click>'),
      data: { url: 'https://app.example.test/deploys/7' },
    });
    const [request] = slack.requests;
    assert.equal(request!.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(request!.headers['content-type'] ?? '', /^application\/json/);
    const [sent] = slack.messages;
    assert.equal(sent!.channel, MEMBER);
    assert.equal(
      sent!.text,
      'Deploy &lt;!channel&gt; &amp; co\na &lt; b &gt; c &lt;@U999|boss&gt; &lt;https://evil.example|click&gt;',
    );
    assert.deepEqual(sent!.blocks, [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Deploy &lt;!channel&gt; &amp; co*\na &lt; b &gt; c &lt;@U999|boss&gt; &lt;https://evil.example|click&gt;',
        },
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Open' },
            url: 'https://app.example.test/deploys/7',
          },
        ],
      },
    ]);
    assert.equal(sent!.params.unfurl_links, false);
    assert.deepEqual(result, { providerMessageId: `${MEMBER}:${sent!.ts}` });
  });

  it('cuts a long body to a section block Slack accepts, never inside an entity', async () => {
    await channel.send(recipient(), message('Report', '&'.repeat(5000)));
    const section = (slack.messages[0]!.blocks![0] as { text: { text: string } }).text.text;
    assert.ok(section.length <= 3000, String(section.length));
    assert.match(section, /^\*Report\*\n(&amp;)+…$/);
    assert.ok(slack.messages[0]!.text!.length <= 4000);
  });

  for (const error of [
    'channel_not_found',
    'user_not_found',
    'is_archived',
    'not_in_channel',
    'account_inactive',
    'token_revoked',
  ]) {
    it(`treats ok:false ${error} as permanent, with that reason`, async () => {
      slack.failChannel(MEMBER, error);
      const failure = await failureOf(channel, recipient());
      assert.equal(failure.permanent, true);
      assert.match(failure.reason, new RegExp(`^Slack ${error} \\(`));
    });
  }

  it('checks the token as Slack does: a wrong one is invalid_auth, permanent and naming the setting', async () => {
    const wrong = createSlackChannel({ botToken: 'xoxb-wrong', apiUrl: slack.url });
    assert.deepEqual(await failureOf(wrong, recipient()), {
      permanent: true,
      reason: 'Slack invalid_auth (the token was rejected: check SLACK_BOT_TOKEN)',
    });
    assert.equal(slack.messages.length, 0);
  });

  it('treats 429 as transient and keeps its Retry-After', async () => {
    slack.failNext(1, { status: 429, retryAfter: 7 });
    assert.deepEqual(await failureOf(channel, recipient()), {
      permanent: false,
      reason: 'Slack ratelimited',
      retryAfterMs: 7000,
    });
  });

  it('treats 5xx and Slack’s own trouble as transient', async () => {
    slack.failNext(1, { status: 503, error: 'service_unavailable' });
    assert.equal((await failureOf(channel, recipient())).permanent, false);
    slack.failNext(1, { error: 'internal_error' });
    assert.equal((await failureOf(channel, recipient())).permanent, false);
  });

  it('fails a recipient without a Slack id, or with a malformed one, without calling Slack', async () => {
    assert.deepEqual(await failureOf(channel, recipient(null)), {
      permanent: true,
      reason: 'the user has no Slack id',
    });
    assert.deepEqual(await failureOf(channel, recipient('#general')), {
      permanent: true,
      reason: 'invalid Slack id',
    });
    assert.equal(slack.requests.length, 0);
  });

  it('is created from the configuration, with its default rate limit', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://h@127.0.0.1/h',
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
    });
    assert.equal(slackChannel.isConfigured(config), true);
    assert.equal(slackChannel.isConfigured(loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h' })), false);
    assert.equal(config.delivery.rateLimits.slack, 1);
    const provider = slackChannel.create(config, {
      logger: createLogger('slack-test', 'silent'),
    } as ChannelContext);
    try {
      await provider.send(recipient(), message('From config', 'ok'));
      assert.equal(slack.messages.length, 1);
    } finally {
      await provider.close();
    }
  });

  it('classifies a timeout and a refused connection as transient', () => {
    assert.deepEqual(classifySlackError(Object.assign(new Error('t'), { name: 'TimeoutError' })), {
      permanent: false,
      reason: 'Slack timed out',
    });
    assert.deepEqual(classifySlackError(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })), {
      permanent: false,
      reason: 'Slack unreachable: ECONNREFUSED',
    });
  });
});

describe('Slack end to end', () => {
  let slack: SlackFake;
  let herald: RunningStack;
  const { createUser, notify, settled, delivery } = deliveryClient(() => herald);

  before(async () => {
    slack = await startSlackFake({ token: TOKEN });
    herald = await startHerald(
      testEnv({
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_API_URL: slack.url,
        DELIVERY_RETRY_POLICIES: JSON.stringify({
          slack: { initialInterval: '200ms', maximumInterval: '1s' },
        }),
      }),
      { queues: ['notifications', 'slack'] },
    );
  });
  after(async () => {
    await herald?.stop();
    await slack?.stop();
  });

  it('delivers to the member set through the API: one attempt', async () => {
    const user = await createUser({ contacts: { slack: 'U0000E2E1' } });
    const { id } = await notify({ userId: user.id, channels: ['slack'], title: 'Build <ok>', body: 'a & b' });
    const sent = await slack.waitFor((m) => m.channel === 'U0000E2E1');
    assert.equal(sent.text, 'Build &lt;ok&gt;\na &amp; b');
    assert.equal(delivery(await settled(id, 'sent'), 'slack').attempts, 1);
  });

  it('honours 429 Retry-After: the second call comes after the delay Slack asked for', async () => {
    const user = await createUser({ contacts: { slack: 'U0000E2E2' } });
    slack.failNext(1, { status: 429, retryAfter: 3 });
    const { id } = await notify({ userId: user.id, channels: ['slack'] });
    const v = await settled(id, 'sent');
    assert.equal(delivery(v, 'slack').attempts, 2);
    const calls = slack.requests.filter((r) => r.status === 429 || r.body.includes('U0000E2E2'));
    assert.deepEqual(
      calls.map((r) => r.status),
      [429, 200],
    );
    // The policy's own interval is 200 ms and the queue's limit one a second; Slack asked for 3 s.
    assert.ok(calls[1]!.at - calls[0]!.at >= 2_900, `waited ${calls[1]!.at - calls[0]!.at} ms`);
  });

  it('fails channel_not_found at once: failed, one attempt, the reason recorded', async () => {
    slack.failChannel('C0000GONE', 'channel_not_found');
    const user = await createUser({ contacts: { slack: 'C0000GONE' } });
    const { id } = await notify({ userId: user.id, channels: ['slack'] });
    const d = delivery(await settled(id, 'failed'), 'slack');
    assert.equal(d.attempts, 1);
    assert.match(d.lastError ?? '', /^Slack channel_not_found/);
  });

  it('retries a transient answer, then delivers once', async () => {
    const user = await createUser({ contacts: { slack: 'U0000E2E3' } });
    slack.failNext(1, { status: 500 });
    const { id } = await notify({ userId: user.id, channels: ['slack'] });
    assert.equal(delivery(await settled(id, 'sent'), 'slack').attempts, 2);
    assert.equal(slack.messages.filter((m) => m.channel === 'U0000E2E3').length, 1);
  });
});
