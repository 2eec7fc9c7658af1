// The Microsoft Teams channel against a fake Workflows webhook over HTTPS: the Adaptive Card as posted,
// then end to end (API → workflow → the teams queue → the fake) for 429, 4xx and 5xx answers.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChannelContext, ChannelProvider } from '../../src/activities/channels/channel.js';
import { createTeamsChannel, teamsChannel } from '../../src/activities/channels/teams/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { createOutboundPolicy } from '../../src/platform/outbound.js';
import { startTeamsFake, type TeamsFake } from '../../tools/fakes/teams-webhook.js';
import { deliveryClient } from '../support/deliveries.js';
import { failureOf, message, recipientOn } from '../support/messages.js';
import { startHerald, testEnv, type RunningStack } from '../support/stack.js';

const recipient = (webhook: string | null) => recipientOn('teams', webhook);

describe('Teams channel (Workflows webhook)', () => {
  let teams: TeamsFake;
  let channel: ChannelProvider;
  let webhook: string;

  before(async () => {
    teams = await startTeamsFake();
    // 127.0.0.1 is private: the tests' one exception, as OUTBOUND_ALLOWED_HOSTS makes it.
    channel = createTeamsChannel({ outbound: createOutboundPolicy(['127.0.0.1']), ca: teams.ca });
  });
  beforeEach(() => {
    teams.reset();
    webhook = teams.createWebhook();
  });
  after(async () => {
    await channel?.close();
    await teams?.stop();
  });

  it('posts an Adaptive Card: the title and body as plain text runs, data.url as an action', async () => {
    const result = await channel.send(recipient(webhook), {
      ...message('**Deploy** done', 'See [this](https://evil.example)\nsecond line'),
      data: { url: 'https://app.example.test/deploys/7' },
    });
    const [sent] = teams.cards;
    assert.deepEqual(sent!.params.type, 'message');
    assert.deepEqual(sent!.card, {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        {
          type: 'RichTextBlock',
          inlines: [{ type: 'TextRun', text: '**Deploy** done', weight: 'Bolder', size: 'Medium' }],
        },
        {
          type: 'RichTextBlock',
          inlines: [{ type: 'TextRun', text: 'See [this](https://evil.example)\nsecond line' }],
        },
      ],
      actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://app.example.test/deploys/7' }],
    });
    assert.deepEqual(result, { providerMessageId: sent!.runId });
  });

  it('leaves the action out without a web link, and keeps a long body under Teams’ 28 KB', async () => {
    await channel.send(recipient(webhook), {
      ...message('Report', '語'.repeat(20_000)),
      data: { url: 'javascript:alert(1)' },
    });
    const [sent] = teams.cards;
    assert.equal(sent!.card.actions, undefined);
    assert.equal(teams.requests[0]!.status, 202);
  });

  it('checks the signature in the URL as Workflows does: a wrong one is a permanent 401', async () => {
    const forged = webhook.replace(/sig=[^&]+/, 'sig=forged');
    assert.deepEqual(await failureOf(channel, recipient(forged)), {
      permanent: true,
      reason: "Teams 401: the webhook's signature was refused",
    });
  });

  it('treats 404 (the workflow was deleted) and 400 as permanent', async () => {
    teams.deleteWebhook(webhook);
    assert.equal((await failureOf(channel, recipient(webhook))).permanent, true);
    teams.failNext(1, { status: 400 });
    assert.deepEqual(await failureOf(channel, recipient(teams.createWebhook())), {
      permanent: true,
      reason: 'Teams 400: the card was refused',
    });
  });

  it('treats 429 (with Retry-After) and 5xx as transient', async () => {
    teams.failNext(1, { status: 429, retryAfter: 4 });
    assert.deepEqual(await failureOf(channel, recipient(webhook)), {
      permanent: false,
      reason: 'Teams 429: rate limited',
      retryAfterMs: 4000,
    });
    teams.failNext(1, { status: 503 });
    assert.deepEqual(await failureOf(channel, recipient(webhook)), {
      permanent: false,
      reason: 'Teams 503: Teams error',
    });
  });

  it('is on only when TEAMS_ENABLED=true, with its default rate limit', () => {
    const on = loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h', TEAMS_ENABLED: 'true' });
    assert.equal(teamsChannel.isConfigured(on), true);
    assert.equal(teamsChannel.isConfigured(loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h' })), false);
    assert.equal(on.delivery.rateLimits.teams, 4);
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h', TEAMS_ENABLED: 'yes' }),
      /TEAMS_ENABLED/,
    );
    void teamsChannel.create(on, {} as ChannelContext).close();
  });
});

describe('Teams end to end', () => {
  let teams: TeamsFake;
  let herald: RunningStack;
  const { createUser, notify, settled, delivery } = deliveryClient(() => herald);
  const workflowOf = (url: string) => /\/workflows\/([0-9a-f]+)\//.exec(url)![1];

  before(async () => {
    teams = await startTeamsFake();
    herald = await startHerald(
      testEnv({
        TEAMS_ENABLED: 'true',
        DELIVERY_RETRY_POLICIES: JSON.stringify({
          teams: { initialInterval: '200ms', maximumInterval: '1s' },
        }),
      }),
      { queues: ['notifications', 'teams'], ca: teams.ca },
    );
  });
  after(async () => {
    await herald?.stop();
    await teams?.stop();
  });

  it('delivers to the webhook set through the API: one attempt', async () => {
    const webhook = teams.createWebhook();
    const user = await createUser({ contacts: { teams: webhook } });
    const { id } = await notify({ userId: user.id, channels: ['teams'], title: 'Hi', body: 'there' });
    const sent = await teams.waitFor((c) => c.workflowId === workflowOf(webhook));
    assert.equal(JSON.stringify(sent.card.body).includes('there'), true);
    assert.equal(delivery(await settled(id, 'sent'), 'teams').attempts, 1);
  });

  it('honours 429 Retry-After: the second call comes after the delay Teams asked for', async () => {
    const webhook = teams.createWebhook();
    const user = await createUser({ contacts: { teams: webhook } });
    teams.failNext(1, { status: 429, retryAfter: 2 });
    const { id } = await notify({ userId: user.id, channels: ['teams'] });
    assert.equal(delivery(await settled(id, 'sent'), 'teams').attempts, 2);
    const calls = teams.requests.filter((r) => r.workflowId === workflowOf(webhook));
    assert.deepEqual(
      calls.map((r) => r.status),
      [429, 202],
    );
    // The policy's own interval is 200 ms; Teams asked for 2 s.
    assert.ok(calls[1]!.at - calls[0]!.at >= 1_900, `waited ${calls[1]!.at - calls[0]!.at} ms`);
  });

  it('fails a 4xx at once: failed, one attempt, the reason recorded', async () => {
    const webhook = teams.createWebhook();
    teams.deleteWebhook(webhook);
    const user = await createUser({ contacts: { teams: webhook } });
    const { id } = await notify({ userId: user.id, channels: ['teams'] });
    const d = delivery(await settled(id, 'failed'), 'teams');
    assert.equal(d.attempts, 1);
    assert.equal(d.lastError, 'Teams 404: the workflow was deleted or turned off');
  });

  it('retries a 5xx, then delivers once', async () => {
    const webhook = teams.createWebhook();
    const user = await createUser({ contacts: { teams: webhook } });
    teams.failNext(1, { status: 500 });
    const { id } = await notify({ userId: user.id, channels: ['teams'] });
    assert.equal(delivery(await settled(id, 'sent'), 'teams').attempts, 2);
    assert.equal(teams.cards.filter((c) => c.workflowId === workflowOf(webhook)).length, 1);
  });
});
