// The Discord channel against a fake Discord webhook over HTTPS: the message as posted (escaped, no
// mentions), then end to end (API → workflow → the discord queue → the fake) for 429, 404 and 5xx.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChannelContext, ChannelProvider } from '../../src/activities/channels/channel.js';
import { createDiscordChannel, discordChannel } from '../../src/activities/channels/discord/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { createOutboundPolicy } from '../../src/platform/outbound.js';
import { startDiscordFake, type DiscordFake } from '../../tools/fakes/discord-webhook.js';
import { deliveryClient } from '../support/deliveries.js';
import { failureOf, message, recipientOn } from '../support/messages.js';
import { startHerald, testEnv, type RunningStack } from '../support/stack.js';

const recipient = (webhook: string | null) => recipientOn('discord', webhook);

describe('Discord channel (webhook)', () => {
  let discord: DiscordFake;
  let channel: ChannelProvider;
  let webhook: string;

  before(async () => {
    discord = await startDiscordFake();
    // 127.0.0.1 is private: the tests' one exception, as OUTBOUND_ALLOWED_HOSTS makes it.
    channel = createDiscordChannel({ outbound: createOutboundPolicy(['127.0.0.1']), ca: discord.ca });
  });
  beforeEach(() => {
    discord.reset();
    webhook = discord.createWebhook();
  });
  after(async () => {
    await channel?.close();
    await discord?.stop();
  });

  it('posts content and an embed with ?wait=true, markdown escaped and no mentions parsed', async () => {
    const result = await channel.send(recipient(webhook), {
      ...message('@everyone **Deploy** <@123>', 'See [this](https://evil.example) # now\n> quoted'),
      data: { url: 'https://app.example.test/deploys/7' },
    });
    const [sent] = discord.messages;
    assert.equal(sent!.wait, true);
    assert.equal(sent!.content, '@everyone \\*\\*Deploy\\*\\* \\<@123\\>');
    assert.deepEqual(sent!.embeds, [
      {
        title: '@everyone \\*\\*Deploy\\*\\* \\<@123\\>',
        description: 'See \\[this\\]\\(https://evil.example\\) \\# now\n\\> quoted',
        url: 'https://app.example.test/deploys/7',
      },
    ]);
    assert.deepEqual(sent!.allowedMentions, { parse: [] });
    assert.deepEqual(result, { providerMessageId: sent!.id });
  });

  it('keeps within Discord’s limits, never cutting an escape in two', async () => {
    await channel.send(recipient(webhook), message('*'.repeat(3000), '_'.repeat(5000)));
    const [sent] = discord.messages;
    assert.ok(sent!.content!.length <= 2000);
    assert.match(sent!.content!, /^(\\\*)+…$/);
    assert.ok((sent!.embeds![0]!.title as string).length <= 256);
    assert.match(sent!.embeds![0]!.description as string, /^(\\_)+…$/);
  });

  it('treats 404 (the webhook was deleted) as permanent', async () => {
    discord.deleteWebhook(webhook);
    assert.deepEqual(await failureOf(channel, recipient(webhook)), {
      permanent: true,
      reason: 'Discord 404 (code 10015): the webhook was deleted',
    });
  });

  it('checks the token in the URL as Discord does: a wrong one is a permanent 401', async () => {
    const forged = webhook.replace(/\/[^/]+$/, '/not-the-token');
    assert.deepEqual(await failureOf(channel, recipient(forged)), {
      permanent: true,
      reason: "Discord 401 (code 50027): the webhook's token was refused",
    });
    assert.equal(discord.messages.length, 0);
  });

  it('treats 429 as transient with its JSON retry_after, in seconds', async () => {
    discord.failNext(1, { status: 429, retryAfter: 1.25 });
    assert.deepEqual(await failureOf(channel, recipient(webhook)), {
      permanent: false,
      reason: 'Discord 429: rate limited',
      retryAfterMs: 1250,
    });
  });

  it('refuses a private address unless allowed, at once and permanently', async () => {
    const strict = createDiscordChannel({ outbound: createOutboundPolicy([]), ca: discord.ca });
    try {
      assert.deepEqual(await failureOf(strict, recipient(webhook)), {
        permanent: true,
        reason: 'Discord webhook refused: its address is not public (EFORBIDDENADDRESS)',
      });
      assert.equal(discord.requests.length, 0);
    } finally {
      await strict.close();
    }
  });

  it('is on only when DISCORD_ENABLED=true, with its default rate limit', () => {
    const on = loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h', DISCORD_ENABLED: 'true' });
    assert.equal(discordChannel.isConfigured(on), true);
    assert.equal(
      discordChannel.isConfigured(loadConfig({ DATABASE_URL: 'postgres://h@127.0.0.1/h' })),
      false,
    );
    assert.equal(on.delivery.rateLimits.discord, 2.5);
    const provider = discordChannel.create(on, {} as ChannelContext);
    void provider.close();
  });
});

describe('Discord end to end', () => {
  let discord: DiscordFake;
  let herald: RunningStack;
  const { createUser, notify, settled, delivery } = deliveryClient(() => herald);

  before(async () => {
    discord = await startDiscordFake();
    herald = await startHerald(
      testEnv({
        DISCORD_ENABLED: 'true',
        DELIVERY_RETRY_POLICIES: JSON.stringify({
          discord: { initialInterval: '200ms', maximumInterval: '1s' },
        }),
      }),
      { queues: ['notifications', 'discord'], ca: discord.ca },
    );
  });
  after(async () => {
    await herald?.stop();
    await discord?.stop();
  });

  it('delivers to the webhook set through the API: one attempt, the message id kept', async () => {
    const webhook = discord.createWebhook();
    const user = await createUser({ contacts: { discord: webhook } });
    const { id } = await notify({ userId: user.id, channels: ['discord'], title: 'Hi @here', body: 'ok' });
    const sent = await discord.waitFor((m) => webhook.includes(`/${m.webhookId}/`));
    assert.equal(sent.content, 'Hi @here');
    assert.deepEqual(sent.allowedMentions, { parse: [] });
    assert.equal(delivery(await settled(id, 'sent'), 'discord').attempts, 1);
    const row = await herald.db.delivery.findFirstOrThrow({ where: { notificationId: id } });
    assert.equal(row.providerMessageId, sent.id);
  });

  it('honours 429 retry_after: the second call comes after the delay Discord asked for', async () => {
    const webhook = discord.createWebhook();
    const user = await createUser({ contacts: { discord: webhook } });
    discord.failNext(1, { status: 429, retryAfter: 2.5 });
    const { id } = await notify({ userId: user.id, channels: ['discord'] });
    assert.equal(delivery(await settled(id, 'sent'), 'discord').attempts, 2);
    const calls = discord.requests.filter((r) => webhook.includes(`/${r.webhookId}/`));
    assert.deepEqual(
      calls.map((r) => r.status),
      [429, 200],
    );
    // The policy's own interval is 200 ms; Discord asked for 2.5 s.
    assert.ok(calls[1]!.at - calls[0]!.at >= 2_400, `waited ${calls[1]!.at - calls[0]!.at} ms`);
  });

  it('fails a deleted webhook (404) at once: failed, one attempt, the reason recorded', async () => {
    const webhook = discord.createWebhook();
    discord.deleteWebhook(webhook);
    const user = await createUser({ contacts: { discord: webhook } });
    const { id } = await notify({ userId: user.id, channels: ['discord'] });
    const d = delivery(await settled(id, 'failed'), 'discord');
    assert.equal(d.attempts, 1);
    assert.equal(d.lastError, 'Discord 404 (code 10015): the webhook was deleted');
  });

  it('retries a 5xx, then delivers once', async () => {
    const webhook = discord.createWebhook();
    const user = await createUser({ contacts: { discord: webhook } });
    discord.failNext(1, { status: 502 });
    const { id } = await notify({ userId: user.id, channels: ['discord'] });
    assert.equal(delivery(await settled(id, 'sent'), 'discord').attempts, 2);
    assert.equal(discord.messages.filter((m) => webhook.includes(`/${m.webhookId}/`)).length, 1);
  });
});
